#include "connection_gate.h"

#include <poll.h>

#include <cerrno>
#include <optional>
#include <vector>

#include "first_flight.h"
#include "waiting_room.h"

namespace xfer {

namespace {

std::string Duration(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

}  // namespace

void LogThrottle::Warn(const std::string& line) {
  Clock::time_point now = Clock::now();
  if (now - window_start_ >= kLogWindow) {
    window_start_ = now;
    in_window_ = 0;
  }
  if (in_window_ >= kLogBurst) {
    ++suppressed_;
    ++suppressed_total_;
    return;
  }
  ++in_window_;
  std::string text = line;
  if (suppressed_ > 0) {
    text += " (" + std::to_string(suppressed_) + " similar lines not logged before this one)";
    suppressed_ = 0;
  }
  if (log_) log_(LogLevel::kWarning, text);
}

Status AcceptAuthenticated(const Socket& listener, const GateOptions& options,
                           const HandshakePool::Handshake& handshake, std::unique_ptr<Channel>* out,
                           std::string* peer) {
  LogThrottle throttle(options.log);
  HandshakePool pool(options.max_handshakes, handshake);
  WaitingRoom room(options.max_waiting, options.max_per_source);
  std::vector<pollfd> fds;
  std::vector<WaitingRoom::Entry*> polled;  // polled[i] is behind fds[kFixed + i]
  std::unique_ptr<Channel> winner;
  constexpr size_t kFixed = 3;  // listener, pool, cancel
  while (true) {
    for (HandshakePool::Outcome& outcome : pool.TakeFinished()) {
      room.HandshakeEnded(outcome.peer);
      if (outcome.status.ok() && winner == nullptr) {
        pool.CancelAll();  // the others, if any, end now instead of at their deadlines
        winner = std::move(outcome.channel);
        *peer = std::move(outcome.peer);
      } else if (outcome.status.ok()) {
        throttle.Warn("rejected connection from " + outcome.peer +
                      ": another sender authenticated first");
      } else if (outcome.preempted) {
        throttle.Warn("dropped connection from " + outcome.peer + ": still authenticating after " +
                      Duration(options.handshake_grace) + " while others waited");
      } else if (outcome.status.code() != Code::kCancelled) {
        throttle.Warn("rejected connection from " + outcome.peer + ": " + outcome.status.message());
      }
    }
    if (winner != nullptr) {
      if (throttle.suppressed_total() > 0 && options.log) {
        options.log(LogLevel::kWarning, std::to_string(throttle.suppressed_total()) +
                                            " more connections were rejected or dropped before "
                                            "the sender authenticated (not logged one by one)");
      }
      *out = std::move(winner);
      return Status::Ok();
    }
    if (options.cancel != nullptr && options.cancel->IsCancelled()) {
      return Status(Code::kCancelled, "waiting for a connection: cancelled");
    }
    if (options.deadline.Expired()) {
      return Status(Code::kTimeout, "waiting for a connection: timed out");
    }

    for (const WaitingRoom::Entry& late : room.TakeExpired()) {
      throttle.Warn("rejected connection from " + late.peer +
                    (late.ready ? ": did not authenticate within "
                                : ": sent no whole first message within ") +
                    Duration(options.handshake_timeout));
    }
    while (!pool.Full()) {
      std::optional<WaitingRoom::Entry> next = room.TakeNextReady();
      if (!next) break;
      ResetLowWater(next->socket.fd());
      pool.TryStart(&next->socket, std::move(next->peer), next->deadline);
    }
    Deadline wake = options.deadline.Earlier(room.NextDeadline());
    if (room.ready() > 0) {
      wake = wake.Earlier(pool.MakeRoom(room.ready(), options.handshake_grace));
    }

    fds.assign({{listener.fd(), POLLIN, 0},
                {pool.ready_fd(), POLLIN, 0},
                {options.cancel != nullptr ? options.cancel->fd() : -1, POLLIN, 0}});
    polled.clear();
    room.AppendUnready(&fds, &polled);
    if (poll(fds.data(), fds.size(), wake.PollTimeoutMs()) < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "waiting for a connection: poll");
    }
    for (size_t i = 0; i < polled.size(); ++i) {
      if (fds[kFixed + i].revents == 0) continue;
      switch (PeekFirstFlight(polled[i]->socket.fd())) {
        case FirstFlight::kWhole:
          room.MarkReady(polled[i]);
          break;
        case FirstFlight::kPartial:
          break;
        case FirstFlight::kForeign:
          polled[i]->refused = "it ended, or its first bytes are neither TLS nor an xfer hello";
          break;
      }
    }
    for (const WaitingRoom::Entry& gone : room.TakeRefused()) {
      throttle.Warn("rejected connection from " + gone.peer + ": " + gone.refused);
    }
    if (fds[0].revents == 0) continue;

    // One connection per pass: the poll above comes right back while more are queued, and
    // finished handshakes get looked at in between.
    Socket socket;
    std::string from;
    Status status =
        AcceptTcp(listener, Deadline::After(std::chrono::milliseconds(0)), nullptr, &socket, &from);
    if (status.code() == Code::kTimeout) continue;  // it went away before we took it
    XFER_RETURN_IF_ERROR(status);
    std::string source = SourceOf(from);
    size_t waiting = room.size();
    std::optional<WaitingRoom::Entry> pushed_out = room.Admit(
        WaitingRoom::Entry{std::move(socket), std::move(from),
                           Deadline::After(options.handshake_timeout).Earlier(options.deadline)});
    if (pushed_out) {
      // Also true when the room was full and its oldest came from this address too.
      std::string which = SourceOf(pushed_out->peer) == source
                              ? "those waiting from " + source
                              : std::to_string(waiting) + " connections waiting";
      throttle.Warn("dropped connection from " + pushed_out->peer + ": the oldest of " + which +
                    " to authenticate");
    }
  }
}

ConnectionRefuser::ConnectionRefuser(Socket listener, LogCallback log)
    : listener_(std::move(listener)), log_(std::move(log)), thread_([this] { Run(); }) {}

ConnectionRefuser::~ConnectionRefuser() {
  stop_.Cancel();
  thread_.join();
  if (refused_ > 0 && log_) {
    log_(LogLevel::kWarning,
         "refused " + std::to_string(refused_) + " connections while the transfer ran");
  }
}

void ConnectionRefuser::Run() {
  LogThrottle throttle(log_);
  while (true) {
    Socket socket;
    std::string peer;
    Status status = AcceptTcp(listener_, Deadline::Never(), &stop_, &socket, &peer);
    if (status.code() == Code::kCancelled) return;
    if (!status.ok()) {
      // Out of descriptors, most likely: the pending connection stays queued, so retrying at
      // once would spin. The transfer goes on either way.
      throttle.Warn("refusing connections: " + status.message());
      (void)WaitFd(stop_.fd(), POLLIN, Deadline::After(std::chrono::seconds(1)), nullptr, nullptr);
      continue;
    }
    ++refused_;
    throttle.Warn("refused connection from " + peer + ": a transfer is already running");
  }
}

}  // namespace xfer
