// StreamDigest: the whole-stream digest of the TRAILER. It is XXH3-128 over, for each DATA chunk
// in order, its raw length (u32) and its XXH3-64 checksum (u64), little-endian. Each chunk's bytes
// are already checked against its checksum, so this binds every byte of the stream, in order,
// without hashing the data a second time.
#pragma once

#include <cstdint>

#include "manifest.h"
#include "xxh128_hasher.h"

namespace xfer {

class StreamDigest {
 public:
  void AddChunk(uint32_t raw_len, uint64_t checksum) {
    uint8_t record[12];
    for (int i = 0; i < 4; ++i) record[i] = static_cast<uint8_t>(raw_len >> (8 * i));
    for (int i = 0; i < 8; ++i) record[4 + i] = static_cast<uint8_t>(checksum >> (8 * i));
    hasher_.Update(record, sizeof record);
  }
  Digest128 Finish() const { return hasher_.Finish(); }

 private:
  Xxh128Hasher hasher_;
};

}  // namespace xfer
