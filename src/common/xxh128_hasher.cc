#include "xxh128_hasher.h"

#include <cstdlib>

#include "xxhash_dispatch.h"

namespace xfer {

Xxh128Hasher::Xxh128Hasher() : state_(XXH3_createState()) {
  if (state_ == nullptr) std::abort();  // out of memory for a few hundred bytes
  Reset();
}

Xxh128Hasher::~Xxh128Hasher() { XXH3_freeState(state_); }

void Xxh128Hasher::Reset() { XXH3_128bits_reset(state_); }

void Xxh128Hasher::Update(const void* data, size_t len) {
  if (len > 0) XXH3_128bits_update(state_, data, len);
}

Digest128 Xxh128Hasher::Finish() const {
  XXH128_hash_t hash = XXH3_128bits_digest(state_);
  return Digest128{hash.high64, hash.low64};
}

}  // namespace xfer
