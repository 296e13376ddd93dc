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

#include "manifest.h"

namespace xfer {

// xfer's own marks on an entry (entry_marks.h) are not part of it.
Digest128 MetadataDigest(struct archive_entry* entry);

}  // namespace xfer
