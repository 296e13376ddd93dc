// Fuzz target: the receiver's per-frame work on a DATA frame (DecodeReceivedFrame): zstd
// decompression against the raw length the header claims, the decompression-bomb path, then the
// XXH3-64 check.
//
// Input: u32 little-endian claimed raw length, one flags byte, then the payload. The header is
// built from these and must first pass DecodeFrameHeader, exactly as on the wire, so the target
// sees only what the receiver's workers would see. Property: an accepted chunk decodes to
// exactly the claimed length.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "buffer_pool.h"
#include "chunk_codec.h"
#include "received_stream.h"
#include "wire_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5) return 0;
  xfer::FrameHeader claimed;
  claimed.type = xfer::FrameType::kData;
  claimed.raw_len = uint32_t{data[0]} | uint32_t{data[1]} << 8 | uint32_t{data[2]} << 16 |
                    uint32_t{data[3]} << 24;
  claimed.flags = data[4];
  const uint8_t* payload = data + 5;
  size_t payload_len = size - 5;
  claimed.payload_len = static_cast<uint32_t>(payload_len);
  if (!(claimed.flags & xfer::kFlagZstd)) claimed.raw_len = claimed.payload_len;
  // Let the fuzzer pass the checksum too: a stored chunk checks the payload it carries.
  claimed.checksum = xfer::ChunkChecksum(payload, payload_len);

  uint8_t encoded[xfer::kFrameHeaderSize];
  xfer::EncodeFrameHeader(claimed, encoded);
  xfer::ReceivedFrame frame;
  if (!xfer::DecodeFrameHeader(encoded, &frame.header).ok()) return 0;
  frame.payload = xfer::Buffer(payload_len);
  if (payload_len > 0) std::memcpy(frame.payload.data(), payload, payload_len);
  frame.payload.set_size(payload_len);

  // One pool across runs, like the receiver's: recycled buffers must not leak old bytes into a
  // shorter chunk.
  static xfer::BufferPool pool(1 << 20, 4);
  xfer::Status status = xfer::DecodeReceivedFrame(frame, &pool);
  if (frame.header.flags & xfer::kFlagZstd) {
    // The checksum was over the payload, so a compressed chunk passes it only by accident. What
    // must hold: a chunk either decoded to exactly the claimed length or left nothing behind.
    if (frame.raw.size() != 0 && frame.raw.size() != frame.header.raw_len) std::abort();
  } else if (!status.ok() || frame.raw.size() != payload_len) {
    std::abort();
  }
  pool.Give(std::move(frame.raw));
  pool.Give(std::move(frame.payload));
  return 0;
}
