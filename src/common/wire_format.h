// The messages of the xfer protocol after authentication (docs/protocol.md has the byte layout).
//
// Every message is a 32-byte FrameHeader followed by payload_len bytes. The sender opens with
// HELLO, the receiver answers ACCEPT or ERROR, then DATA frames carry the pax stream in sequence,
// MANIFEST frames the per-file digests, and TRAILER the totals; the receiver ends with RESULT (or
// ERROR). Either side may send ERROR at any time and then closes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "held_file.h"
#include "manifest.h"
#include "xfer/status.h"
#include "xfer/version.h"

namespace xfer {

constexpr size_t kFrameHeaderSize = 32;
constexpr uint32_t kMaxChunkSize = 16 << 20;      // a DATA or MANIFEST payload, raw or compressed
constexpr uint32_t kMaxControlPayload = 1 << 20;  // HELLO, ERROR, TRAILER, RESULT
constexpr uint32_t kMaxPathBytes = 1 << 20;       // one path in HELLO or MANIFEST

enum class FrameType : uint8_t {
  kHello = 1,
  kAccept = 2,
  kError = 3,
  kData = 4,
  kManifest = 5,
  kTrailer = 6,
  kResult = 7,
  kHeld = 8,  // receiver -> sender, between HELLO and ACCEPT: what it holds (--resume)
};

constexpr uint8_t kFlagZstd = 1;  // DATA payload is one zstd frame; otherwise raw bytes

struct FrameHeader {
  FrameType type = FrameType::kData;
  uint8_t flags = 0;
  uint32_t payload_len = 0;
  uint64_t seq = 0;       // DATA, MANIFEST and HELD: 0, 1, 2, ... within their kind
  uint32_t raw_len = 0;   // DATA, MANIFEST and HELD: length after decompression
  uint64_t checksum = 0;  // DATA, MANIFEST and HELD: XXH3-64 of the raw bytes
};

void EncodeFrameHeader(const FrameHeader& header, uint8_t out[kFrameHeaderSize]);
// Checks the type, flags, reserved bytes and that lengths are within the limits for the type.
Status DecodeFrameHeader(const uint8_t in[kFrameHeaderSize], FrameHeader* out);

struct Hello {
  uint16_t version = kProtocolVersion;
  bool resume = false;  // the sender asks what the receiver holds of an interrupted transfer
  // The DATA payloads are a byte stream of unknown length (a command's output), not a pax
  // archive: no entries, files or names, never resumed.
  bool stream = false;
  uint32_t chunk_size = 0;
  uint64_t entries = 0;
  uint64_t files = 0;
  uint64_t content_bytes = 0;
  uint64_t allocated_bytes = 0;
  std::vector<std::string> top_names;
};
std::string EncodeHello(const Hello& hello);
// Also validates the top-level names: non-empty, no '/', not "." or "..", no NUL, no duplicates.
Status DecodeHello(std::string_view payload, Hello* out);

struct Trailer {
  uint64_t stream_bytes = 0;
  uint64_t data_frames = 0;
  uint64_t manifest_records = 0;
  Digest128 stream_digest;  // XXH3-128 of the whole raw pax stream
};
std::string EncodeTrailer(const Trailer& trailer);
Status DecodeTrailer(std::string_view payload, Trailer* out);

// A manifest record: u32 path length, path, u64 size, u64 digest high, u64 digest low.
void AppendManifestRecord(const ManifestRecord& record, std::string* out);
// A held-file record: u32 path length, path, u64 size, u64 have, u64 + u64 metadata digest,
// u64 + u64 content digest (high, low).
void AppendHeldRecord(const HeldFile& record, std::string* out);

// Parses MANIFEST (Record = ManifestRecord) or HELD (Record = HeldFile) payloads, which may split
// a record anywhere.
template <typename Record>
class RecordParser {
 public:
  // Appends the complete records found so far to *out.
  Status Feed(std::string_view bytes, std::vector<Record>* out);
  // Fails if a record was left incomplete.
  Status Finish() const;

 private:
  std::string pending_;
};
using ManifestParser = RecordParser<ManifestRecord>;
using HeldParser = RecordParser<HeldFile>;

}  // namespace xfer
