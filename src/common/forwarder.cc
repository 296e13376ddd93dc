#include "forwarder.h"

#include <cstring>

namespace xfer {

namespace {

// Telling a downstream that was never opened why it gets nothing: the same bound as an
// authentication handshake.
constexpr auto kNoticeTimeout = std::chrono::seconds(10);

}  // namespace

Forwarder::Forwarder(const ReceiveOptions& options)
    : options_(options), link_(*options.forward, "receiver", options.cancel) {
  outcome_.host = options.forward->host;
}

Forwarder::~Forwarder() {
  if (thread_.joinable()) {
    queue_.Abort();
    thread_.join();
  }
}

Status Forwarder::Handshake(std::string_view hello_payload, const Hello& hello) {
  // The idle timeout, not the overall one the sender waits for our ACCEPT: a downstream that
  // hangs must be given up on before the sender gives up on this receiver.
  Deadline deadline = Deadline::After(options_.idle_timeout);
  Status status = link_.Connect(deadline, options_.log);
  if (!status.ok()) return status.WithContext("connecting to " + link_.Where());
  if (options_.log) {
    options_.log(LogLevel::kInfo, "forwarding to " + link_.Where() + " (" + link_.Describe() + ")");
  }
  XFER_RETURN_IF_ERROR(link_.SendHello(hello_payload, deadline));
  if (hello.resume) return link_.AwaitAccept(deadline, hello.files, &offers_);
  return link_.AwaitAccept(deadline);
}

void Forwarder::Open(std::string_view hello_payload, const Hello& hello, BufferPool* pool) {
  opened_ = true;
  pool_ = pool;
  Status status = Handshake(hello_payload, hello);
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
  finished_ = true;
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
  if (finished_) return Wait();
  if (thread_.joinable()) {
    queue_.Abort();
    thread_.join();
  }
  // Whatever failed here, the link to the downstream is sound, so it always hears why (even when
  // `why` came from our own sender or connection, which SendErrorAndClose would not tell).
  Status upstream_failed(Code::kCancelled, "upstream failed: " + why.message());
  if (!opened_) {
    // Without cancel: this also runs when the transfer was cancelled, and the downstream should
    // hear why rather than wait out its timeout.
    opened_ = true;
    ReceiverLink notice(*options_.forward, "receiver", nullptr);
    if (notice.ConnectOnce(Deadline::After(kNoticeTimeout)).ok()) notice.Fail(upstream_failed);
  }
  if (outcome_.error.empty()) {
    outcome_.error = "not completed: this receiver failed: " + why.message();
    link_.Fail(upstream_failed);
  }
  return outcome_;
}

void Forwarder::SendLoop() {
  while (std::optional<QueuedFrame> frame = queue_.Pop()) {
    Status status = Send(*frame);
    bool trailer = frame->header.type == FrameType::kTrailer;
    pool_->Give(std::move(frame->payload));
    // The downstream verifies, syncs and renames before it answers; like a sender, wait for
    // that with the overall timeout rather than the idle one.
    if (status.ok() && trailer) status = link_.AwaitVerdict(Deadline::After(options_.timeout));
    if (!status.ok()) {
      Fail(status);
      return;
    }
    if (trailer) {
      outcome_.ok = true;
      link_.Finish();
      return;
    }
  }
}

Status Forwarder::Send(const QueuedFrame& frame) {
  Deadline deadline = Deadline::After(options_.idle_timeout);
  if (frame.header.type == FrameType::kTrailer) {
    return link_.SendTrailer(
        std::string_view(reinterpret_cast<const char*>(frame.payload.data()), frame.payload.size()),
        deadline);
  }
  return link_.SendFrame(frame.header, frame.payload.data(), deadline);
}

void Forwarder::Fail(const Status& status) {
  stopped_ = true;
  outcome_.error = status.message();
  link_.Fail(status);
  // Wakes a Forward() waiting for room; from now on it recycles the payload itself.
  queue_.Abort();
  if (options_.log) {
    options_.log(LogLevel::kWarning, "forwarding to " + link_.Where() +
                                         " stopped, this copy goes on: " + status.message());
  }
}

}  // namespace xfer
