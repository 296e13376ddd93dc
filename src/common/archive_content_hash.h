// ContentHasher: the XXH3-128 digest of a regular file's logical content, as the manifest
// defines it: the bytes a plain read() of the file returns, holes included as zeros.
//
// The sender hashes what it reads and the receiver what it writes; both use this one class so
// that a hole, a trailing hole and an empty file digest the same on both sides.
#pragma once

#include <xxhash.h>

#include <cstddef>
#include <cstdint>

#include "manifest.h"

namespace xfer {

class ContentHasher {
 public:
  ContentHasher();
  ~ContentHasher();
  ContentHasher(const ContentHasher&) = delete;
  ContentHasher& operator=(const ContentHasher&) = delete;

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
