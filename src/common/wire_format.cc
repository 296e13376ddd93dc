#include "wire_format.h"

#include <set>

#include "byte_codec.h"

namespace xfer {

namespace {

constexpr uint32_t kHelloMagic = 0x31524658;  // "XFR1"
constexpr uint32_t kMaxTopNames = 1 << 16;

Status Malformed(std::string_view what) {
  return Status(Code::kProtocol, "malformed " + std::string(what) + " from peer");
}

bool IsPayloadFrame(FrameType type) {
  return type == FrameType::kData || type == FrameType::kManifest || type == FrameType::kHeld;
}

constexpr uint16_t kHelloResume = 1;
constexpr uint16_t kHelloStream = 2;

// The fixed-size part of a record after its path, and how to read it.
size_t RecordTail(const ManifestRecord*) { return 24; }
size_t RecordTail(const HeldFile*) { return 48; }

void ReadTail(ByteReader* r, ManifestRecord* record) {
  r->U64(&record->size);
  r->U64(&record->digest.high);
  r->U64(&record->digest.low);
}

void ReadTail(ByteReader* r, HeldFile* record) {
  r->U64(&record->size);
  r->U64(&record->have);
  r->U64(&record->meta.high);
  r->U64(&record->meta.low);
  r->U64(&record->content.high);
  r->U64(&record->content.low);
}

}  // namespace

void EncodeFrameHeader(const FrameHeader& header, uint8_t out[kFrameHeaderSize]) {
  ByteWriter w;
  w.U8(static_cast<uint8_t>(header.type));
  w.U8(header.flags);
  w.U16(0);
  w.U32(header.payload_len);
  w.U64(header.seq);
  w.U32(header.raw_len);
  w.U32(0);
  w.U64(header.checksum);
  std::memcpy(out, w.str().data(), kFrameHeaderSize);
}

Status DecodeFrameHeader(const uint8_t in[kFrameHeaderSize], FrameHeader* out) {
  ByteReader r(std::string_view(reinterpret_cast<const char*>(in), kFrameHeaderSize));
  uint8_t type = 0;
  uint16_t reserved16 = 0;
  uint32_t reserved32 = 0;
  FrameHeader h;
  r.U8(&type);
  r.U8(&h.flags);
  r.U16(&reserved16);
  r.U32(&h.payload_len);
  r.U64(&h.seq);
  r.U32(&h.raw_len);
  r.U32(&reserved32);
  r.U64(&h.checksum);
  if (type < static_cast<uint8_t>(FrameType::kHello) ||
      type > static_cast<uint8_t>(FrameType::kHeld)) {
    return Status(Code::kProtocol, "unknown frame type " + std::to_string(type) + " from peer");
  }
  h.type = static_cast<FrameType>(type);
  if (reserved16 != 0 || reserved32 != 0) return Malformed("frame header (reserved bytes set)");
  if (h.flags & ~kFlagZstd || (h.flags != 0 && h.type != FrameType::kData)) {
    return Malformed("frame header (unknown flags)");
  }
  if (IsPayloadFrame(h.type)) {
    if (h.payload_len > kMaxChunkSize || h.raw_len > kMaxChunkSize) {
      return Malformed("frame header (chunk larger than 16 MiB)");
    }
    if (!(h.flags & kFlagZstd) && h.payload_len != h.raw_len) {
      return Malformed("frame header (stored chunk whose lengths differ)");
    }
  } else if (h.payload_len > kMaxControlPayload || h.raw_len != 0 || h.seq != 0 ||
             h.checksum != 0) {
    return Malformed("control frame header");
  }
  *out = h;
  return Status::Ok();
}

std::string EncodeHello(const Hello& hello) {
  ByteWriter w;
  w.U32(kHelloMagic);
  w.U16(hello.version);
  w.U16(
      static_cast<uint16_t>((hello.resume ? kHelloResume : 0) | (hello.stream ? kHelloStream : 0)));
  w.U32(hello.chunk_size);
  w.U64(hello.entries);
  w.U64(hello.files);
  w.U64(hello.content_bytes);
  w.U64(hello.allocated_bytes);
  w.U32(static_cast<uint32_t>(hello.top_names.size()));
  for (const std::string& name : hello.top_names) w.Bytes(name);
  return std::move(w.str());
}

Status DecodeHello(std::string_view payload, Hello* out) {
  ByteReader r(payload);
  uint32_t magic = 0;
  uint16_t flags = 0;
  Hello h;
  if (!r.U32(&magic) || magic != kHelloMagic) {
    return Status(Code::kProtocol, "the peer is not an xfer sender");
  }
  if (!r.U16(&h.version)) return Malformed("hello");
  if (h.version != kProtocolVersion) {
    return Status(Code::kProtocol, "protocol version mismatch: sender speaks " +
                                       std::to_string(h.version) + ", receiver speaks " +
                                       std::to_string(kProtocolVersion));
  }
  uint32_t count = 0;
  r.U16(&flags);
  h.resume = (flags & kHelloResume) != 0;
  h.stream = (flags & kHelloStream) != 0;
  r.U32(&h.chunk_size);
  r.U64(&h.entries);
  r.U64(&h.files);
  r.U64(&h.content_bytes);
  r.U64(&h.allocated_bytes);
  if (!r.U32(&count) || (flags & ~(kHelloResume | kHelloStream)) != 0) return Malformed("hello");
  if (h.chunk_size == 0 || h.chunk_size > kMaxChunkSize) return Malformed("hello (chunk size)");
  // A byte stream has no entries and no names; an archive has at least one name.
  if (h.stream ? (count != 0 || h.entries != 0 || h.files != 0 || h.resume)
               : (count == 0 || count > kMaxTopNames)) {
    return Malformed("hello (name count)");
  }
  std::set<std::string_view> seen;
  for (uint32_t i = 0; i < count; ++i) {
    std::string_view name;
    if (!r.Bytes(&name, kMaxPathBytes)) return Malformed("hello");
    if (name.empty() || name == "." || name == ".." ||
        name.find_first_of(std::string_view("/\0", 2)) != std::string_view::npos) {
      return Status(Code::kUnsafe, "sender announced an unsafe top-level name");
    }
    if (!seen.insert(name).second) return Malformed("hello (duplicate top-level name)");
    h.top_names.emplace_back(name);
  }
  if (r.remaining() != 0) return Malformed("hello (trailing bytes)");
  *out = std::move(h);
  return Status::Ok();
}

std::string EncodeTrailer(const Trailer& trailer) {
  ByteWriter w;
  w.U64(trailer.stream_bytes);
  w.U64(trailer.data_frames);
  w.U64(trailer.manifest_records);
  w.U64(trailer.stream_digest.high);
  w.U64(trailer.stream_digest.low);
  return std::move(w.str());
}

Status DecodeTrailer(std::string_view payload, Trailer* out) {
  ByteReader r(payload);
  Trailer t;
  r.U64(&t.stream_bytes);
  r.U64(&t.data_frames);
  r.U64(&t.manifest_records);
  r.U64(&t.stream_digest.high);
  r.U64(&t.stream_digest.low);
  if (!r.ok() || r.remaining() != 0) return Malformed("trailer");
  *out = t;
  return Status::Ok();
}

void AppendManifestRecord(const ManifestRecord& record, std::string* out) {
  ByteWriter w;
  w.Bytes(record.path);
  w.U64(record.size);
  w.U64(record.digest.high);
  w.U64(record.digest.low);
  out->append(w.str());
}

void AppendHeldRecord(const HeldFile& record, std::string* out) {
  ByteWriter w;
  w.Bytes(record.path);
  w.U64(record.size);
  w.U64(record.have);
  w.U64(record.meta.high);
  w.U64(record.meta.low);
  w.U64(record.content.high);
  w.U64(record.content.low);
  out->append(w.str());
}

template <typename Record>
Status RecordParser<Record>::Feed(std::string_view bytes, std::vector<Record>* out) {
  const size_t tail = RecordTail(static_cast<Record*>(nullptr));
  pending_.append(bytes);
  ByteReader r(pending_);
  size_t consumed = 0;
  while (r.remaining() >= 4) {
    uint32_t path_len = 0;
    ByteReader peek = r;  // the length alone, to know whether the whole record is here
    peek.U32(&path_len);
    if (path_len > kMaxPathBytes) return Malformed("record (path too long)");
    if (r.remaining() < 4 + size_t{path_len} + tail) break;
    Record record;
    std::string_view path;
    r.Bytes(&path, kMaxPathBytes);
    record.path = path;
    ReadTail(&r, &record);
    consumed = pending_.size() - r.remaining();
    out->push_back(std::move(record));
  }
  pending_.erase(0, consumed);
  return Status::Ok();
}

template <typename Record>
Status RecordParser<Record>::Finish() const {
  return pending_.empty() ? Status::Ok() : Malformed("record (truncated)");
}

template class RecordParser<ManifestRecord>;
template class RecordParser<HeldFile>;

}  // namespace xfer
