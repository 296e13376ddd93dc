#include "connection_gate.h"

#include <poll.h>

#include <cerrno>
#include <deque>
#include <vector>

namespace xfer {

namespace {

// A connection accepted and not yet handed to the HandshakePool.
struct Waiting {
  Socket socket;
  std::string peer;
  Deadline deadline;   // to send its first bytes
  bool spoke = false;  // bytes (or its end) arrived: ready for a handshake slot
};

std::string Duration(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

// The connection to drop when max_waiting are held: the oldest silent one (it has had the most
// time to speak, and a real sender speaks within a round trip of connecting), or none when every
// waiting connection has spoken and only waits for a handshake slot.
std::deque<Waiting>::iterator OldestSilent(std::deque<Waiting>* waiting) {
  for (auto it = waiting->begin(); it != waiting->end(); ++it) {
    if (!it->spoke) return it;
  }
  return waiting->end();
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
  std::deque<Waiting> waiting;  // in accept order
  std::vector<pollfd> fds;
  std::vector<Waiting*> polled;  // polled[i] is behind fds[kFixed + i]
  std::unique_ptr<Channel> winner;
  constexpr size_t kFixed = 3;  // listener, pool, cancel
  while (true) {
    for (HandshakePool::Outcome& outcome : pool.TakeFinished()) {
      if (outcome.status.ok() && winner == nullptr) {
        pool.CancelAll();  // the others, if any, end now instead of at their deadlines
        winner = std::move(outcome.channel);
        *peer = std::move(outcome.peer);
      } else if (outcome.status.ok()) {
        throttle.Warn("rejected connection from " + outcome.peer +
                      ": another sender authenticated first");
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

    // Oldest first, those that spoke take the free handshake slots; silent ones past their
    // deadline go.
    Deadline wake = options.deadline;
    for (auto it = waiting.begin(); it != waiting.end();) {
      if (it->spoke && !pool.Full()) {
        pool.TryStart(&it->socket, std::move(it->peer),
                      Deadline::After(options.handshake_timeout).Earlier(options.deadline));
        it = waiting.erase(it);
      } else if (!it->spoke && it->deadline.Expired()) {
        throttle.Warn("rejected connection from " + it->peer + ": sent nothing within " +
                      Duration(options.handshake_timeout));
        it = waiting.erase(it);
      } else {
        if (!it->spoke) wake = wake.Earlier(it->deadline);
        ++it;
      }
    }

    fds.assign({{listener.fd(), POLLIN, 0},
                {pool.ready_fd(), POLLIN, 0},
                {options.cancel != nullptr ? options.cancel->fd() : -1, POLLIN, 0}});
    polled.clear();
    for (Waiting& w : waiting) {
      if (w.spoke) continue;  // its bytes wait for a slot; polling it again would spin
      fds.push_back({w.socket.fd(), POLLIN, 0});
      polled.push_back(&w);
    }
    if (poll(fds.data(), fds.size(), wake.PollTimeoutMs()) < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "waiting for a connection: poll");
    }
    for (size_t i = 0; i < polled.size(); ++i) {
      if (fds[kFixed + i].revents != 0) polled[i]->spoke = true;
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
    if (waiting.size() >= options.max_waiting) {
      auto victim = OldestSilent(&waiting);
      if (victim == waiting.end()) {
        throttle.Warn("refused connection from " + from + ": " + std::to_string(waiting.size()) +
                      " connections already wait to authenticate");
        continue;  // closes socket
      }
      throttle.Warn("dropped connection from " + victim->peer + ": silent while " +
                    std::to_string(waiting.size()) + " connections wait");
      waiting.erase(victim);
    }
    waiting.push_back(
        Waiting{std::move(socket), std::move(from),
                Deadline::After(options.handshake_timeout).Earlier(options.deadline)});
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
