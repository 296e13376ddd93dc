// Xxh128Hasher: streaming XXH3-128, for the stream digest, path digests and metadata digests. A
// regular file's content has a digest of its own, which skips holes: ContentDigest
// (content_digest.h).
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
  Digest128 Finish() const;

 private:
  XXH3_state_t* state_;
};

}  // namespace xfer
