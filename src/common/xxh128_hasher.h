// Xxh128Hasher: streaming XXH3-128, for a regular file's logical content as the manifest defines
// it (the bytes a plain read() returns, holes included as zeros) and for the whole pax stream.
//
// The sender hashes what it reads and the receiver what it writes; both use this one class so
// that a hole, a trailing hole and an empty file digest the same on both sides.
#pragma once

#include <xxhash.h>

#include <cstddef>
#include <cstdint>

#include "manifest.h"

namespace xfer {

class Xxh128Hasher {
 public:
  Xxh128Hasher();
  ~Xxh128Hasher();
  Xxh128Hasher(const Xxh128Hasher&) = delete;
  Xxh128Hasher& operator=(const Xxh128Hasher&) = delete;

  // Starts a new file.
  void Reset();
  void Update(const void* data, size_t len);
  // Adds len zero bytes (a hole) without anyone having to allocate them.
  void UpdateZeros(uint64_t len);
  Digest128 Finish() const;

 private:
  XXH3_state_t* state_;
};

}  // namespace xfer
