#include "content_digest.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "xxhash_dispatch.h"

namespace xfer {

namespace {

bool AllZero(const unsigned char* data, size_t len) {
  // memcmp against itself shifted by one byte: glibc's vectorized compare, no zero buffer.
  return len == 0 || (data[0] == 0 && std::memcmp(data, data + 1, len - 1) == 0);
}

void UpdateU64(XXH3_state_t* state, uint64_t value) {
  unsigned char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(value >> (8 * i));
  XXH3_128bits_update(state, bytes, sizeof bytes);
}

}  // namespace

ContentDigest::ContentDigest() : state_(XXH3_createState()), finish_state_(XXH3_createState()) {
  if (state_ == nullptr || finish_state_ == nullptr) std::abort();  // out of memory for 1 KiB
  pending_.reserve(kBlockSize);
  Reset();
}

ContentDigest::~ContentDigest() {
  XXH3_freeState(state_);
  XXH3_freeState(finish_state_);
}

void ContentDigest::Reset() {
  XXH3_128bits_reset(state_);
  pending_.clear();
  position_ = 0;
}

void ContentDigest::AddBlock(uint64_t index, const unsigned char* block, size_t len,
                             XXH3_state_t* state) const {
  if (AllZero(block, len)) return;
  UpdateU64(state, index);
  XXH3_128bits_update(state, block, len);
}

void ContentDigest::Update(const void* data, size_t len) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  if (!pending_.empty()) {
    size_t take = std::min(len, kBlockSize - pending_.size());
    pending_.insert(pending_.end(), bytes, bytes + take);
    bytes += take;
    len -= take;
    position_ += take;
    if (pending_.size() < kBlockSize) return;
    AddBlock(position_ / kBlockSize - 1, pending_.data(), kBlockSize, state_);
    pending_.clear();
  }
  // Whole blocks are digested where they lie; only a tail is copied.
  while (len >= kBlockSize) {
    AddBlock(position_ / kBlockSize, bytes, kBlockSize, state_);
    bytes += kBlockSize;
    len -= kBlockSize;
    position_ += kBlockSize;
  }
  pending_.assign(bytes, bytes + len);
  position_ += len;
}

void ContentDigest::UpdateZeros(uint64_t len) {
  if (!pending_.empty()) {
    size_t take = static_cast<size_t>(std::min<uint64_t>(len, kBlockSize - pending_.size()));
    pending_.resize(pending_.size() + take, 0);
    len -= take;
    position_ += take;
    if (pending_.size() < kBlockSize) return;
    AddBlock(position_ / kBlockSize - 1, pending_.data(), kBlockSize, state_);
    pending_.clear();
  }
  // Whole blocks of zeros add nothing: only the position moves.
  position_ += len - len % kBlockSize;
  pending_.resize(static_cast<size_t>(len % kBlockSize), 0);
  position_ += len % kBlockSize;
}

Digest128 ContentDigest::Finish() const {
  XXH3_copyState(finish_state_, state_);
  AddBlock(position_ / kBlockSize, pending_.data(), pending_.size(), finish_state_);
  UpdateU64(finish_state_, position_);
  XXH128_hash_t hash = XXH3_128bits_digest(finish_state_);
  return Digest128{hash.high64, hash.low64};
}

}  // namespace xfer
