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
  std::string path;   // the entry's path in the stream, e.g. "datadir/ibdata1"
  uint64_t size = 0;  // logical size (holes count as zeros)
  Digest128 digest;   // XXH3-128 of the logical content
  bool operator==(const ManifestRecord&) const = default;
};

using Manifest = std::vector<ManifestRecord>;

// What a receiver keeps of each file it wrote until the sender's MANIFEST arrives: the path only
// as its digest, so that its memory grows with the number of files, never with the bytes of
// their paths (which a sender chooses: a pax path may be megabytes long).
struct WrittenFile {
  Digest128 path;  // PathDigest() of the entry's path
  uint64_t size = 0;
  Digest128 digest;
  bool operator==(const WrittenFile&) const = default;
};

using WrittenFiles = std::vector<WrittenFile>;

// The WrittenFile a receiver keeps of the file a record describes.
WrittenFile WrittenOf(const ManifestRecord& record);

}  // namespace xfer
