#include "archive_content_hash.h"

#include <algorithm>
#include <cstdlib>

namespace xfer {

namespace {

// Large enough that hashing a hole costs a few calls per MiB, small enough to stay in cache.
constexpr size_t kZeroBlock = size_t{64} * 1024;
const unsigned char kZeros[kZeroBlock] = {};

}  // namespace

ContentHasher::ContentHasher() : state_(XXH3_createState()) {
  if (state_ == nullptr) std::abort();  // out of memory for a few hundred bytes
  Reset();
}

ContentHasher::~ContentHasher() { XXH3_freeState(state_); }

void ContentHasher::Reset() { XXH3_128bits_reset(state_); }

void ContentHasher::Update(const void* data, size_t len) {
  if (len > 0) XXH3_128bits_update(state_, data, len);
}

void ContentHasher::UpdateZeros(uint64_t len) {
  while (len > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, kZeroBlock));
    XXH3_128bits_update(state_, kZeros, n);
    len -= n;
  }
}

Digest128 ContentHasher::Finish() const {
  XXH128_hash_t hash = XXH3_128bits_digest(state_);
  return Digest128{hash.high64, hash.low64};
}

}  // namespace xfer
