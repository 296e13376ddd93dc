// Fuzz target: DecodeFrameHeader, the 32 bytes that open every frame a peer sends.
//
// Property: a header that decodes re-encodes to the same 32 bytes (reserved bytes must be zero,
// so there is exactly one encoding per header).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "wire_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size != xfer::kFrameHeaderSize) return 0;  // the receiver always reads exactly 32 bytes
  xfer::FrameHeader header;
  if (!xfer::DecodeFrameHeader(data, &header).ok()) return 0;
  uint8_t encoded[xfer::kFrameHeaderSize];
  xfer::EncodeFrameHeader(header, encoded);
  if (std::memcmp(encoded, data, sizeof encoded) != 0) std::abort();
  // What the limits promise to the code that allocates the payload.
  uint32_t limit = header.type == xfer::FrameType::kData ||
                           header.type == xfer::FrameType::kManifest ||
                           header.type == xfer::FrameType::kHeld
                       ? xfer::kMaxChunkSize
                       : xfer::kMaxControlPayload;
  if (header.payload_len > limit || header.raw_len > xfer::kMaxChunkSize) std::abort();
  return 0;
}
