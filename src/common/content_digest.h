// ContentDigest: the digest of a regular file's content that the manifest, the resume journal,
// held-file offers and --checksum compare (docs/protocol.md §3, "the content digest").
//
// The content is cut into 64 KiB blocks from offset 0 (the last one may be shorter); the digest
// is XXH3-128 (seed 0) over, for each block holding a non-zero byte, its index (u64 LE) and its
// bytes, then the file size (u64 LE). A block of zeros adds nothing, so a hole costs nothing to
// digest whatever its length, and a file digests the same however its zeros are stored (hole,
// preallocated extent or written zeros) on either side. Holes are given with UpdateZeros; only
// the blocks they share with data are ever filled in memory.
#pragma once

#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "manifest.h"

namespace xfer {

class ContentDigest {
 public:
  static constexpr size_t kBlockSize = size_t{64} * 1024;

  ContentDigest();
  ~ContentDigest();
  ContentDigest(const ContentDigest&) = delete;
  ContentDigest& operator=(const ContentDigest&) = delete;

  // Starts a new file.
  void Reset();
  // The next len bytes of the file.
  void Update(const void* data, size_t len);
  // The next len bytes of the file are zeros (a hole).
  void UpdateZeros(uint64_t len);
  // The digest of the bytes given so far, as a file of that size; more may follow.
  Digest128 Finish() const;

 private:
  // Digests the whole block at `index` unless it is all zeros.
  void AddBlock(uint64_t index, const unsigned char* block, size_t len, XXH3_state_t* state) const;

  XXH3_state_t* state_;
  XXH3_state_t* finish_state_;  // Finish's scratch copy, so that the digest can go on after it
  std::vector<unsigned char> pending_;  // the bytes of the current, incomplete block
  uint64_t position_ = 0;
};

}  // namespace xfer
