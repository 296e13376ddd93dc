#include "plain_stream_rewriter.h"

#include <xxhash.h>

#include <cstring>
#include <string>
#include <string_view>

#include "stream_digest.h"

namespace xfer::testing {

namespace {

constexpr char kVersion1Magic[8] = {'X', 'F', 'E', 'R', 'A', 'U', 'T', 'H'};
constexpr size_t kMagicSize = sizeof kVersion1Magic;
constexpr size_t kTagSize = 16;

uint32_t LoadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

void AppendLe32(uint32_t value, std::vector<uint8_t>* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<uint8_t>(value >> (8 * i)));
}

}  // namespace

std::vector<uint8_t> PlainStreamRewriter::Rewrite(const uint8_t* data, size_t len) {
  in_.insert(in_.end(), data, data + len);
  std::vector<uint8_t> out;
  if (handshake_left_ > 0) {
    if (in_.size() < kMagicSize) return out;
    if (handshake_left_ == 56) records_ = std::memcmp(in_.data(), kVersion1Magic, kMagicSize) != 0;
    size_t n = std::min(handshake_left_, in_.size());
    out.assign(in_.begin(), in_.begin() + static_cast<ptrdiff_t>(n));
    in_.erase(in_.begin(), in_.begin() + static_cast<ptrdiff_t>(n));
    handshake_left_ -= n;
  }
  Frame frame;
  while (!broken_ && TakeFrame(&frame)) Forward(frame, &out);
  // The client ended its stream, or sent what is no frame: the rest goes on as it came.
  if (len == 0 || broken_) {
    out.insert(out.end(), in_.begin(), in_.end());
    in_.clear();
  }
  return out;
}

bool PlainStreamRewriter::TakeFrame(Frame* frame) {
  std::vector<uint8_t> bytes;
  frame->tags.clear();
  frame->record_lens.clear();
  size_t need = kFrameHeaderSize;
  bool have_header = false;
  size_t pos = 0;  // bytes of in_ this frame takes
  while (true) {
    if (!have_header && bytes.size() >= kFrameHeaderSize) {
      if (!DecodeFrameHeader(bytes.data(), &frame->header).ok()) {
        broken_ = true;
        return false;
      }
      need = kFrameHeaderSize + frame->header.payload_len;
      have_header = true;
    }
    if (have_header && bytes.size() >= need) break;
    if (!records_) {
      size_t take = (have_header ? need : kFrameHeaderSize) - bytes.size();
      if (in_.size() < pos + take) return false;
      bytes.insert(bytes.end(), in_.begin() + static_cast<ptrdiff_t>(pos),
                   in_.begin() + static_cast<ptrdiff_t>(pos + take));
      pos += take;
      continue;
    }
    if (in_.size() < pos + 4) return false;
    uint32_t len = LoadLe32(in_.data() + pos);
    if (in_.size() < pos + 4 + len + kTagSize) return false;
    const uint8_t* body = in_.data() + pos + 4;
    bytes.insert(bytes.end(), body, body + len);
    frame->record_lens.push_back(len);
    frame->tags.emplace_back(body + len, body + len + kTagSize);
    pos += 4 + len + kTagSize;
  }
  if (bytes.size() != need) {  // a record spans two frames: not a stream this rewriter knows
    broken_ = true;
    return false;
  }
  frame->payload.assign(bytes.begin() + kFrameHeaderSize, bytes.end());
  in_.erase(in_.begin(), in_.begin() + static_cast<ptrdiff_t>(pos));
  return true;
}

void PlainStreamRewriter::Forward(Frame& frame, std::vector<uint8_t>* out) {
  FrameHeader& header = frame.header;
  bool content = header.type == FrameType::kData || header.type == FrameType::kManifest;
  if (cut_ && content) return;
  Action action = edit_(&header, &frame.payload);
  if (action == Action::kCut) cut_ = true;
  if (action == Action::kDrop || (cut_ && content)) return;
  for (int copy = 0; copy < (action == Action::kRepeat ? 2 : 1); ++copy) {
    if (header.type == FrameType::kData) {
      header.seq = data_seq_++;
      if ((header.flags & kFlagZstd) == 0) {
        header.checksum = XXH3_64bits(frame.payload.data(), frame.payload.size());
      }
      chunks_.emplace_back(header.raw_len, header.checksum);
      stream_bytes_ += header.raw_len;
    } else if (header.type == FrameType::kManifest) {
      header.checksum = XXH3_64bits(frame.payload.data(), frame.payload.size());
    } else if (header.type == FrameType::kTrailer) {
      Trailer trailer;
      std::string_view payload(reinterpret_cast<const char*>(frame.payload.data()),
                               frame.payload.size());
      if (DecodeTrailer(payload, &trailer).ok()) {
        StreamDigest digest;
        for (const auto& [raw_len, checksum] : chunks_) digest.AddChunk(raw_len, checksum);
        trailer.stream_bytes = stream_bytes_;
        trailer.data_frames = data_seq_;
        trailer.stream_digest = digest.Finish();
        std::string encoded = EncodeTrailer(trailer);
        frame.payload.assign(encoded.begin(), encoded.end());
      }
    }
    Emit(frame, out);
  }
}

void PlainStreamRewriter::Emit(const Frame& frame, std::vector<uint8_t>* out) const {
  std::vector<uint8_t> bytes(kFrameHeaderSize);
  EncodeFrameHeader(frame.header, bytes.data());
  bytes.insert(bytes.end(), frame.payload.begin(), frame.payload.end());
  if (!records_) {
    out->insert(out->end(), bytes.begin(), bytes.end());
    return;
  }
  // The same record lengths and tags as the sender's: only the bodies may have changed.
  size_t pos = 0;
  for (size_t i = 0; i < frame.record_lens.size(); ++i) {
    size_t len = frame.record_lens[i];
    AppendLe32(static_cast<uint32_t>(len), out);
    out->insert(out->end(), bytes.begin() + static_cast<ptrdiff_t>(pos),
                bytes.begin() + static_cast<ptrdiff_t>(pos + len));
    out->insert(out->end(), frame.tags[i].begin(), frame.tags[i].end());
    pos += len;
  }
}

}  // namespace xfer::testing
