#include "xxh128_hasher.h"

#include <algorithm>
#include <cstdlib>

#include "xxhash_dispatch.h"

namespace xfer {

namespace {

// Large enough that hashing a hole costs a few calls per MiB, small enough to stay in cache.
constexpr size_t kZeroBlock = size_t{64} * 1024;
const unsigned char kZeros[kZeroBlock] = {};

}  // namespace

Xxh128Hasher::Xxh128Hasher() : state_(XXH3_createState()) {
  if (state_ == nullptr) std::abort();  // out of memory for a few hundred bytes
  Reset();
}

Xxh128Hasher::~Xxh128Hasher() { XXH3_freeState(state_); }

void Xxh128Hasher::Reset() { XXH3_128bits_reset(state_); }

void Xxh128Hasher::Update(const void* data, size_t len) {
  if (len > 0) XXH3_128bits_update(state_, data, len);
}

void Xxh128Hasher::UpdateZeros(uint64_t len) {
  while (len > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, kZeroBlock));
    XXH3_128bits_update(state_, kZeros, n);
    len -= n;
  }
}

Digest128 Xxh128Hasher::Finish() const {
  XXH128_hash_t hash = XXH3_128bits_digest(state_);
  return Digest128{hash.high64, hash.low64};
}

}  // namespace xfer
