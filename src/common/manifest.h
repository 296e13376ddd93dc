// Manifest: the per-file digests of a transfer, in stream order.
// The sender computes one record per regular file it reads; the receiver computes one per regular
// file it writes; the two lists must be equal before anything is renamed into place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xfer {

struct Digest128 {
  uint64_t high = 0;
  uint64_t low = 0;
  bool operator==(const Digest128&) const = default;
};

struct ManifestRecord {
  std::string path;  // the entry's path in the stream, e.g. "datadir/ibdata1"
  uint64_t size = 0;  // logical size (holes count as zeros)
  Digest128 digest;   // XXH3-128 of the logical content
  bool operator==(const ManifestRecord&) const = default;
};

using Manifest = std::vector<ManifestRecord>;

}  // namespace xfer
