#include "path_digest.h"

#include "xxh128_hasher.h"
#include "xxhash_dispatch.h"

namespace xfer {

Digest128 PathDigest(std::string_view path) {
  XXH128_hash_t hash = XXH3_128bits(path.data(), path.size());
  return Digest128{hash.high64, hash.low64};
}

void ForEachParentDigest(std::string_view rel,
                         const std::function<bool(const Digest128& digest, size_t length)>& visit) {
  // XXH3's streaming digest of a prefix equals the one-shot digest of that prefix.
  Xxh128Hasher hasher;
  size_t hashed = 0;
  for (size_t slash = rel.find('/'); slash != std::string_view::npos;
       slash = rel.find('/', slash + 1)) {
    hasher.Update(rel.data() + hashed, slash - hashed);
    hashed = slash;
    if (!visit(hasher.Finish(), slash)) return;
  }
}

}  // namespace xfer
