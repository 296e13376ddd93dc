#include "forwarder.h"

#include <cstring>

#include "frame_io.h"
#include "socket.h"

namespace xfer {

namespace {

// Telling a downstream that was never opened why it gets nothing: the same bound as an
// authentication handshake.
constexpr auto kNoticeTimeout = std::chrono::seconds(10);
// How long a downstream that stopped reading gets to deliver its ERROR frame.
constexpr auto kHearTimeout = std::chrono::seconds(5);

}  // namespace

Forwarder::Forwarder(const ReceiveOptions& options) : options_(options) {
  outcome_.host = options.forward->host;
}

Forwarder::~Forwarder() {
  if (thread_.joinable()) {
    queue_.Abort();
    thread_.join();
  }
}

std::string Forwarder::Where() const {
  return JoinHostPort(options_.forward->host, options_.forward->ticket.port);
}

Status Forwarder::Connect(Deadline deadline, const CancelToken* cancel) {
  const Ticket& ticket = options_.forward->ticket;
  Socket socket;
  XFER_RETURN_IF_ERROR(ConnectTcp(options_.forward->host, ticket.port, deadline, cancel, &socket));
  ChannelParams params;
  params.secret = ticket.secret;
  params.encrypt = ticket.encrypt;
  return OpenClientChannel(std::move(socket), params, deadline, cancel, &channel_);
}

Status Forwarder::Handshake(std::string_view hello_payload) {
  // The idle timeout, not the overall one the sender waits for our ACCEPT: a downstream that
  // hangs must be given up on before the sender gives up on this receiver.
  Deadline deadline = Deadline::After(options_.idle_timeout);
  Status status = Connect(deadline, options_.cancel);
  if (!status.ok()) return status.WithContext("connecting to " + Where());
  if (options_.log) {
    options_.log(LogLevel::kInfo, "forwarding to " + Where() + " (" + channel_->Describe() + ")");
  }
  XFER_RETURN_IF_ERROR(
      WriteControl(channel_.get(), FrameType::kHello, hello_payload, deadline, options_.cancel));
  std::string ignored;
  return ReadControl(channel_.get(), FrameType::kAccept, "receiver", &ignored, deadline,
                     options_.cancel);
}

void Forwarder::Open(std::string_view hello_payload, BufferPool* pool) {
  opened_ = true;
  pool_ = pool;
  Status status = Handshake(hello_payload);
  if (!status.ok()) {
    Fail(status);
    return;
  }
  thread_ = std::thread([this] { SendLoop(); });
}

void Forwarder::Forward(const FrameHeader& header, Buffer payload) {
  QueuedFrame frame{header, std::move(payload)};
  if (!queue_.Push(std::move(frame))) pool_->Give(std::move(frame.payload));
}

void Forwarder::Finish(std::string_view trailer_payload) {
  QueuedFrame frame;
  frame.header.type = FrameType::kTrailer;
  frame.header.payload_len = static_cast<uint32_t>(trailer_payload.size());
  frame.payload = Buffer(trailer_payload.size());
  std::memcpy(frame.payload.data(), trailer_payload.data(), trailer_payload.size());
  frame.payload.set_size(trailer_payload.size());
  // Refused only when forwarding already stopped, which Wait() reports.
  (void)queue_.Push(std::move(frame));
}

PeerOutcome Forwarder::Wait() {
  if (thread_.joinable()) thread_.join();
  return outcome_;
}

PeerOutcome Forwarder::Abort(const Status& why) {
  if (thread_.joinable()) {
    queue_.Abort();
    thread_.join();
  }
  if (!opened_) {
    // Without cancel: this also runs when the transfer was cancelled, and the downstream should
    // hear why rather than wait out its timeout.
    opened_ = true;
    if (!Connect(Deadline::After(kNoticeTimeout), nullptr).ok()) channel_.reset();
  }
  if (outcome_.error.empty()) {
    outcome_.error = "not completed: this receiver failed: " + why.message();
    // Whatever failed here, the link to the downstream is sound, so it always hears why (even
    // when `why` came from our own sender or connection, which SendErrorAndClose would not tell).
    if (channel_) {
      SendErrorAndClose(channel_.get(),
                        Status(Code::kCancelled, "upstream failed: " + why.message()));
    }
  }
  channel_.reset();
  return outcome_;
}

void Forwarder::SendLoop() {
  while (std::optional<QueuedFrame> frame = queue_.Pop()) {
    Status status = Send(*frame);
    bool trailer = frame->header.type == FrameType::kTrailer;
    pool_->Give(std::move(frame->payload));
    if (status.ok() && trailer) status = AwaitVerdict();
    if (!status.ok()) {
      Fail(status);
      return;
    }
    if (trailer) {
      outcome_.ok = true;
      channel_->CloseWrite();
      return;
    }
  }
}

Status Forwarder::Send(const QueuedFrame& frame) {
  if (channel_->InputPending()) return HearDownstream();
  Status status = WriteFrame(channel_.get(), frame.header, frame.payload.data(),
                             Deadline::After(options_.idle_timeout), options_.cancel, true);
  if (status.code() == Code::kPeerFailed) return HearDownstream();
  return status.ok() ? status : status.WithContext("sending to " + Where());
}

// Mid-stream a receiver only speaks to say why it gives up, then closes.
Status Forwarder::HearDownstream() {
  std::string ignored;
  Status status = ReadControl(channel_.get(), FrameType::kResult, "receiver", &ignored,
                              Deadline::After(kHearTimeout), options_.cancel);
  if (status.code() == Code::kPeerFailed) return status;
  if (status.ok()) return Status(Code::kProtocol, Where() + " reported a result mid-stream");
  return status.WithContext("connection to " + Where() + " lost");
}

// The downstream verifies, syncs and renames before it answers; like a sender, wait for that
// with the overall timeout rather than the idle one.
Status Forwarder::AwaitVerdict() {
  std::string ignored;
  Status status = ReadControl(channel_.get(), FrameType::kResult, "receiver", &ignored,
                              Deadline::After(options_.timeout), options_.cancel);
  if (status.ok() || status.code() == Code::kPeerFailed) return status;
  return status.WithContext("waiting for the verdict of " + Where());
}

void Forwarder::Fail(const Status& status) {
  outcome_.error = status.message();
  channel_.reset();
  // Wakes a Forward() waiting for room; from now on it recycles the payload itself.
  queue_.Abort();
  if (options_.log) {
    options_.log(LogLevel::kWarning,
                 "forwarding to " + Where() + " stopped, this copy goes on: " + status.message());
  }
}

}  // namespace xfer
