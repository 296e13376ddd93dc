// ArchiveFileSource: an existing archive file as what xfer-send sends (`--from-archive FILE`).
//
// Any archive libarchive reads (tar, pax, .tar.gz, .tar.zst, .tar.xz, .zip, cpio, 7z, ...) is
// re-emitted entry by entry as the pax stream WriteArchive would have made of the extracted tree,
// so the receiver extracts and verifies it exactly like a directory sent from disk. Nothing is
// extracted on the sender; content streams block by block, so memory does not grow with the
// archive's files.
//
// Entry names: `strip_components` leading components are removed first, counted as tar counts
// them ("./a/b" has three), then "." components are dropped ("./db/x" -> "db/x"). An entry left
// without a name is skipped, as `tar --strip-components` skips it. Refused, naming the archive
// and the entry: absolute names, ".." components, empty components ("a//b"), the same in
// hardlink targets, and hardlinks whose target was stripped away (tar fails on those too).
#pragma once

#include <string>

#include "archive_source.h"
#include "byte_stream.h"
#include "manifest.h"
#include "xfer/cancel.h"
#include "xfer/status.h"

namespace xfer {

// Summarizes the archive at path in one pass over its headers (content is skipped, though a
// compressed archive is still decompressed): top_names are the first components of the entries
// as sent, in order. allocated_bytes is an estimate: each file's data rounded up to 4 KiB blocks.
// Fails like CopyArchiveFile on anything CopyArchiveFile would refuse, and when no entry is left.
Status SummarizeArchiveFile(const std::string& path, int strip_components, SourceSummary* out);

// Writes the archive's entries as xfer's pax stream into sink: type, mode, numeric owner,
// nanosecond mtime, xattrs, ACLs, symlink targets, hardlinks (targets stripped like names),
// sparse maps where the archive has them. Appends one ManifestRecord per regular file with data
// (hardlinks are not files: no record), in stream order; manifest and counters may be null.
// Makes the same decisions as SummarizeArchiveFile, so manifest->size() == summary.files and
// counters->entries_written == summary.entries. Checks cancel between entries and data blocks.
Status CopyArchiveFile(const std::string& path, int strip_components, ByteSink* sink,
                       const CancelToken* cancel, Manifest* manifest, ArchiveCounters* counters);

}  // namespace xfer
