// Paths kept as digests: what a receiver remembers of the paths a sender chose (files written,
// symlinks made, entries of an adopted tree) costs it 16 bytes each, however long the path.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>
#include <unordered_set>

#include "manifest.h"

namespace xfer {

// XXH3-128 of a path.
Digest128 PathDigest(std::string_view path);

struct Digest128Hash {
  size_t operator()(const Digest128& digest) const { return digest.low ^ digest.high; }
};

using PathDigestSet = std::unordered_set<Digest128, Digest128Hash>;

// Calls visit with PathDigest() of each parent of rel ("a", "a/b" for "a/b/c"), shortest first,
// and the parent's length; stops early when visit returns false. One pass over rel, however deep.
void ForEachParentDigest(std::string_view rel,
                         const std::function<bool(const Digest128& digest, size_t length)>& visit);

}  // namespace xfer
