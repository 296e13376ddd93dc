// ArchiveSource: turns files and directories on disk into one pax stream.
//
// Two sources, one stream format: trees (SummarizeSources, WriteArchive), where each path is
// stored under its basename with everything below it, as `tar -C dirname(path) basename(path)`
// would; and lists (SummarizeFileList, WriteFileList: `--files-from`, archive_source_list.h),
// exactly the paths a list names, as `tar -C DIR -T FILE --no-recursion` would. Both turn each
// entry of their walk into a pax entry the same way, resume included. What
// `tar --xattrs --acls -S -p` keeps is kept: types (regular, directory, symlink, hardlink, fifo,
// device), all mode bits, numeric owner, nanosecond mtimes, xattrs, ACLs, holes. Names are bytes.
// The walk uses openat() on directory descriptors, never chdir(), so it is safe in a process that
// does other work, and paths of any length are read.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "archive_source_list.h"
#include "byte_stream.h"
#include "held_file.h"
#include "manifest.h"
#include "xfer/cancel.h"
#include "xfer/status.h"

namespace xfer {

// What a quick metadata-only walk finds, announced to the receiver before data flows.
struct SourceSummary {
  std::vector<std::string> top_names;  // basename of each path, in order (lists: see below)
  uint64_t entries = 0;                // every entry, directories included
  uint64_t files = 0;                  // regular files
  uint64_t content_bytes = 0;          // sum of regular file sizes (logical)
  uint64_t allocated_bytes = 0;        // sum of st_blocks * 512: what the files occupy on disk
};

// Walks the paths with lstat only. Fails with a message naming the path when one is missing or
// unreadable, or when two paths share a basename.
Status SummarizeSources(const std::vector<std::string>& paths, SourceSummary* out);

// The same for a list: top_names are the first components of its names, in the order the list
// first mentions them (a top-level name that is only a socket, which is not sent, is left out).
// Fails with a message naming the list and the line of a name that is refused or missing, and
// when nothing is left to send.
Status SummarizeFileList(const FileList& list, SourceSummary* out);

struct ArchiveCounters {
  std::atomic<uint64_t> content_bytes_read{0};  // file content read so far, for progress
  std::atomic<uint64_t> entries_written{0};
  std::atomic<uint64_t> resumed_files{0};  // files (or prefixes) the receiver held, not sent
  std::atomic<uint64_t> resumed_bytes{0};
};

// Writes the pax stream of all paths into sink, appending one ManifestRecord per regular file (in
// stream order). Checks cancel between entries and between data blocks.
// held (may be null): what the receiver holds of an interrupted transfer. Of a file it holds, the
// part it holds is read and digested but not sent when the file's metadata and that part are
// still the same here: the entry carries a resume mark (entry_marks.h) with the held
// length, and its sparse map starts there. Its manifest record still digests the whole file.
Status WriteArchive(const std::vector<std::string>& paths, ByteSink* sink,
                    const CancelToken* cancel, const HeldFiles* held, Manifest* manifest,
                    ArchiveCounters* counters);

// WriteArchive for exactly the paths list names (and their parents), as archive_source_list.h
// describes, with the same manifest, resume and cancellation behaviour.
Status WriteFileList(const FileList& list, ByteSink* sink, const CancelToken* cancel,
                     const HeldFiles* held, Manifest* manifest, ArchiveCounters* counters);

}  // namespace xfer
