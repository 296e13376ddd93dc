// MetadataDigest: one digest of what a regular file's entry restores besides its content (type
// and mode, owner, mtime, size, xattrs, ACLs), computed alike by the sender from the file on disk
// and by the receiver from the entry it extracted.
//
// A receiver keeps a file it holds of an interrupted transfer, with the metadata it applied then,
// only when the sender's entry digests the same now: a chmod, chown, touch or setfacl on the
// source since then makes the file travel again.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <string_view>

#include "manifest.h"

namespace xfer {

// The xattr name that marks an entry as resumed (its value: the bytes the receiver already holds,
// in decimal). Without a namespace prefix, no file on Linux can carry an xattr of that name, so
// it cannot be mistaken for the source's own. MetadataDigest ignores it.
inline constexpr std::string_view kResumeXattr = "xfer.resume";

Digest128 MetadataDigest(struct archive_entry* entry);

}  // namespace xfer
