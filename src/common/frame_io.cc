#include "frame_io.h"

#include <chrono>

namespace xfer {

namespace {

constexpr size_t kMaxErrorMessage = 4096;

std::string_view AsView(const Buffer& buffer) {
  return std::string_view(reinterpret_cast<const char*>(buffer.data()), buffer.size());
}

}  // namespace

Status WriteFrame(Channel* channel, const FrameHeader& header, const uint8_t* payload,
                  Deadline deadline, const CancelToken* cancel, bool yield_to_input) {
  uint8_t encoded[kFrameHeaderSize];
  EncodeFrameHeader(header, encoded);
  XFER_RETURN_IF_ERROR(
      channel->WriteAll(encoded, sizeof encoded, deadline, cancel, yield_to_input));
  if (header.payload_len == 0) return Status::Ok();
  return channel->WriteAll(payload, header.payload_len, deadline, cancel, yield_to_input);
}

Status WriteControl(Channel* channel, FrameType type, std::string_view payload, Deadline deadline,
                    const CancelToken* cancel) {
  FrameHeader header;
  header.type = type;
  header.payload_len = static_cast<uint32_t>(payload.size());
  return WriteFrame(channel, header, reinterpret_cast<const uint8_t*>(payload.data()), deadline,
                    cancel);
}

Status ReadFrame(Channel* channel, FrameHeader* header, Buffer* payload, Deadline deadline,
                 const CancelToken* cancel) {
  uint8_t encoded[kFrameHeaderSize];
  XFER_RETURN_IF_ERROR(channel->ReadExact(encoded, sizeof encoded, deadline, cancel));
  XFER_RETURN_IF_ERROR(DecodeFrameHeader(encoded, header));
  payload->Reserve(header->payload_len);
  payload->set_size(header->payload_len);
  if (header->payload_len == 0) return Status::Ok();
  return channel->ReadExact(payload->data(), header->payload_len, deadline, cancel);
}

Status ReadControl(Channel* channel, FrameType expected, std::string_view peer_role,
                   std::string* payload, Deadline deadline, const CancelToken* cancel) {
  FrameHeader header;
  Buffer buffer;
  XFER_RETURN_IF_ERROR(ReadFrame(channel, &header, &buffer, deadline, cancel));
  if (header.type == FrameType::kError) return PeerError(peer_role, AsView(buffer));
  if (header.type != expected) {
    return Status(Code::kProtocol, std::string(peer_role) + " sent frame type " +
                                       std::to_string(static_cast<int>(header.type)) +
                                       " where type " + std::to_string(static_cast<int>(expected)) +
                                       " belongs");
  }
  payload->assign(AsView(buffer));
  return Status::Ok();
}

Status PeerError(std::string_view peer_role, std::string_view payload) {
  std::string message(peer_role);
  message += ": ";
  for (char c : payload.substr(0, kMaxErrorMessage)) {
    message += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return Status(Code::kPeerFailed, std::move(message));
}

void SendErrorAndClose(Channel* channel, const Status& status) {
  if (status.code() == Code::kPeerFailed || status.code() == Code::kNetwork) return;
  Deadline deadline = Deadline::After(std::chrono::seconds(5));
  std::string_view message = status.message();
  Status ignored = WriteControl(channel, FrameType::kError, message.substr(0, kMaxErrorMessage),
                                deadline, nullptr);
  (void)ignored;  // the peer may be gone already: our own error is what gets reported
  channel->CloseWrite();
  // Closing with unread input makes the kernel send a reset, which can destroy the ERROR frame
  // before the peer reads it. So read and drop what is still in flight until the peer closes.
  uint8_t sink[65536];
  while (channel->ReadExact(sink, sizeof sink, deadline, nullptr).ok()) {
  }
}

}  // namespace xfer
