// HeldFile: what a receiver already holds of an interrupted transfer, for one regular file. The
// receiver's journal vouches for it (resume_journal.h), the receiver offers it to a sender that
// asked to resume (HELD frames, docs/protocol.md), and the sender skips what it can verify.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "manifest.h"

namespace xfer {

struct HeldFile {
  std::string path;   // the entry's path in the stream, e.g. "db/ibdata1"
  uint64_t size = 0;  // the file's full size
  uint64_t have = 0;  // bytes held and verified from offset 0: == size for a complete file
  Digest128 meta;     // MetadataDigest() of the entry (archive_metadata_digest.h)
  Digest128 content;  // XXH3-128 of the first `have` bytes
  bool operator==(const HeldFile&) const = default;
};

using HeldFiles = std::unordered_map<std::string, HeldFile>;  // by path

// One stream serves several receivers, so it may skip only what all of them hold: keeps in
// *held what `other` holds too, of a file with the same size and metadata, and then the shorter
// of the two prefixes (a receiver holding more of a file gets the rest of it from there on, its
// own copy of the part between verified by the file's digest at the end).
void KeepCommonHeld(const HeldFiles& other, HeldFiles* held);

}  // namespace xfer
