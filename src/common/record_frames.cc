#include "record_frames.h"

#include "buffer.h"
#include "chunk_codec.h"
#include "frame_io.h"

namespace xfer {

Status RecordFramer::Add(std::string_view encoded) {
  pending_.append(encoded);
  while (pending_.size() >= frame_size_) {
    XFER_RETURN_IF_ERROR(EmitFrame(std::string_view(pending_).substr(0, frame_size_)));
    pending_.erase(0, frame_size_);
  }
  return Status::Ok();
}

Status RecordFramer::Flush() {
  if (pending_.empty()) return Status::Ok();
  Status status = EmitFrame(pending_);
  pending_.clear();
  return status;
}

Status RecordFramer::EmitFrame(std::string_view payload) {
  FrameHeader header;
  header.type = type_;
  header.seq = seq_++;
  header.raw_len = header.payload_len = static_cast<uint32_t>(payload.size());
  const auto* bytes = reinterpret_cast<const uint8_t*>(payload.data());
  header.checksum = ChunkChecksum(bytes, payload.size());
  return emit_(header, bytes);
}

Status ReadOffersAndAccept(Channel* channel, std::string_view role, uint64_t max_records,
                           Deadline deadline, const CancelToken* cancel, HeldFiles* offers) {
  HeldParser parser;
  std::vector<HeldFile> batch;
  uint64_t next_seq = 0;
  std::string who(role);
  for (;;) {
    FrameHeader header;
    Buffer payload;
    XFER_RETURN_IF_ERROR(ReadFrame(channel, &header, &payload, deadline, cancel));
    std::string_view bytes(reinterpret_cast<const char*>(payload.data()), payload.size());
    if (header.type == FrameType::kError) return PeerError(role, bytes);
    if (header.type == FrameType::kAccept) return parser.Finish();
    if (header.type != FrameType::kHeld || header.seq != next_seq++ ||
        ChunkChecksum(payload.data(), payload.size()) != header.checksum) {
      return Status(Code::kProtocol, who + " sent a malformed answer to the resume request");
    }
    XFER_RETURN_IF_ERROR(parser.Feed(bytes, &batch));
    for (HeldFile& file : batch) {
      if (offers->size() >= max_records || file.have > file.size) {
        return Status(Code::kProtocol, who + " offered more than this transfer holds");
      }
      std::string path = file.path;
      if (!offers->emplace(std::move(path), std::move(file)).second) {
        return Status(Code::kProtocol, who + " offered the same file twice");
      }
    }
    batch.clear();
  }
}

Status WriteOffersAndAccept(Channel* channel, const HeldFiles& offers, size_t frame_size,
                            Deadline deadline, const CancelToken* cancel) {
  RecordFramer framer(FrameType::kHeld, frame_size,
                      [&](const FrameHeader& header, const uint8_t* payload) {
                        return WriteFrame(channel, header, payload, deadline, cancel);
                      });
  std::string encoded;
  for (const auto& [path, file] : offers) {
    encoded.clear();
    AppendHeldRecord(file, &encoded);
    XFER_RETURN_IF_ERROR(framer.Add(encoded));
  }
  XFER_RETURN_IF_ERROR(framer.Flush());
  return WriteControl(channel, FrameType::kAccept, "", deadline, cancel);
}

}  // namespace xfer
