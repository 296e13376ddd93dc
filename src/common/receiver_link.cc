#include "receiver_link.h"

#include <poll.h>

#include <algorithm>
#include <chrono>

#include "frame_io.h"
#include "record_frames.h"
#include "socket.h"

namespace xfer {

std::string ReceiverLink::Where() const {
  return JoinHostPort(destination_.host, destination_.ticket.port);
}

namespace {

constexpr std::chrono::milliseconds kFirstRetryDelay{100};
constexpr std::chrono::milliseconds kMaxRetryDelay{2000};

// Waits until `until`, or until cancel fires.
void Pause(Deadline until, const CancelToken* cancel) {
  pollfd cancelled{cancel != nullptr ? cancel->fd() : -1, POLLIN, 0};  // -1: poll ignores it
  while (!until.Expired() && (cancel == nullptr || !cancel->IsCancelled())) {
    (void)poll(&cancelled, 1, until.PollTimeoutMs());
  }
}

}  // namespace

Status ReceiverLink::Connect(Deadline deadline, const LogCallback& log) {
  std::chrono::milliseconds delay = kFirstRetryDelay;
  for (int attempt = 1;; ++attempt) {
    Status status = ConnectOnce(deadline);
    if (status.code() != Code::kNetwork || deadline.Expired()) {
      if (attempt == 1 || status.ok()) return status;
      return Status(status.code(),
                    status.message() + " (after " + std::to_string(attempt) + " attempts)");
    }
    if (attempt == 1 && log) {
      auto left = std::chrono::ceil<std::chrono::seconds>(deadline.at() - Clock::now());
      log(LogLevel::kWarning, "retrying connection to " + Where() + " for up to " +
                                  std::to_string(left.count()) + " s: " + status.message());
    }
    Pause(Deadline::After(delay).Earlier(deadline), cancel_);
    if (cancel_ != nullptr && cancel_->IsCancelled()) {
      return Status(Code::kCancelled, "connecting to " + Where() + ": cancelled");
    }
    delay = std::min(delay * 2, kMaxRetryDelay);
  }
}

Status ReceiverLink::ConnectOnce(Deadline deadline) {
  Socket socket;
  XFER_RETURN_IF_ERROR(
      ConnectTcp(destination_.host, destination_.ticket.port, deadline, cancel_, &socket));
  local_ = PeerIsLocal(socket.fd());
  ChannelParams params;
  params.secret = destination_.ticket.secret;
  params.encrypt = destination_.ticket.encrypt;
  return OpenClientChannel(std::move(socket), params, deadline, cancel_, &channel_);
}

Status ReceiverLink::SendHello(std::string_view hello, Deadline deadline) {
  return Wrote(WriteControl(channel_.get(), FrameType::kHello, hello, deadline, cancel_));
}

Status ReceiverLink::AwaitAccept(Deadline deadline, uint64_t max_offers, HeldFiles* offers) {
  if (offers != nullptr) {
    return ReadOffersAndAccept(channel_.get(), role_, max_offers, deadline, cancel_, offers);
  }
  std::string ignored;
  return ReadControl(channel_.get(), FrameType::kAccept, role_, &ignored, deadline, cancel_);
}

Status ReceiverLink::HearReceiver() {
  std::string payload;
  Status status = ReadControl(channel_.get(), FrameType::kResult, role_, &payload,
                              Deadline::After(std::chrono::seconds(5)), cancel_);
  if (status.code() == Code::kPeerFailed) return status;
  if (status.ok()) return Status(Code::kProtocol, role_ + " reported a result mid-stream");
  return Status(Code::kNetwork, "connection to receiver " + Where() + " lost: " + status.message());
}

Status ReceiverLink::SendFrame(const FrameHeader& header, const uint8_t* payload,
                               Deadline deadline) {
  if (channel_->InputPending()) return HearReceiver();
  // The channel's own errors already say "sending to HOST:PORT"; Wrote adds who that is.
  Status status = Wrote(WriteFrame(channel_.get(), header, payload, deadline, cancel_, true));
  if (status.code() == Code::kPeerFailed) return HearReceiver();
  return status;
}

Status ReceiverLink::SendTrailer(std::string_view trailer, Deadline deadline) {
  return Wrote(WriteControl(channel_.get(), FrameType::kTrailer, trailer, deadline, cancel_));
}

Status ReceiverLink::AwaitVerdict(Deadline deadline) {
  std::string payload;
  Status status =
      ReadControl(channel_.get(), FrameType::kResult, role_, &payload, deadline, cancel_);
  if (!status.ok() && status.code() != Code::kPeerFailed) {
    return Status(status.code(),
                  "waiting for the receiver's verdict from " + Where() + ": " + status.message());
  }
  return status;
}

void ReceiverLink::Finish() { channel_->CloseWrite(); }

void ReceiverLink::Fail(const Status& status) {
  if (!failure_.ok()) return;
  failure_ = status;
  if (channel_ == nullptr) return;  // it never connected
  // After a failed write the stream stops mid-frame, so no ERROR frame can follow; closing at
  // once is what tells the receiver, and waiting for it to hang up would hold back the others.
  if (!write_failed_) SendErrorAndClose(channel_.get(), status);
  bytes_sent_ = channel_->BytesSent();
  bytes_received_ = channel_->BytesReceived();
  channel_.reset();
}

Status ReceiverLink::Wrote(Status status) {
  if (!status.ok()) write_failed_ = true;
  // "sending to HOST:PORT: Broken pipe" alone does not say who went away.
  if (status.code() == Code::kNetwork) {
    return Status(Code::kNetwork, "connection to receiver lost: " + status.message());
  }
  return status;
}

std::string ReceiverLink::Describe() const {
  return channel_ != nullptr ? channel_->Describe() : "not connected";
}

uint64_t ReceiverLink::BytesSent() const {
  return channel_ != nullptr ? channel_->BytesSent() : bytes_sent_;
}

uint64_t ReceiverLink::BytesReceived() const {
  return channel_ != nullptr ? channel_->BytesReceived() : bytes_received_;
}

}  // namespace xfer
