// ArchiveSource: turns files and directories on disk into one pax stream.
//
// Each path is stored under its basename, as `tar -C dirname(path) basename(path)` would. What
// `tar --xattrs --acls -S -p` keeps is kept: types (regular, directory, symlink, hardlink, fifo,
// device), all mode bits, numeric owner, nanosecond mtimes, xattrs, ACLs, holes. Names are bytes.
// The walk uses openat() on directory descriptors, never chdir(), so it is safe in a process that
// does other work, and paths of any length are read.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "byte_stream.h"
#include "held_file.h"
#include "manifest.h"
#include "xfer/cancel.h"
#include "xfer/status.h"

namespace xfer {

// What a quick metadata-only walk finds, announced to the receiver before data flows.
struct SourceSummary {
  std::vector<std::string> top_names;  // basename of each path, in order
  uint64_t entries = 0;                // every entry, directories included
  uint64_t files = 0;                  // regular files
  uint64_t content_bytes = 0;          // sum of regular file sizes (logical)
  uint64_t allocated_bytes = 0;        // sum of st_blocks * 512: what the files occupy on disk
};

// Walks the paths with lstat only. Fails with a message naming the path when one is missing or
// unreadable, or when two paths share a basename.
Status SummarizeSources(const std::vector<std::string>& paths, SourceSummary* out);

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
// still the same here: the entry carries kResumeXattr (archive_metadata_digest.h) with the held
// length, and its sparse map starts there. Its manifest record still digests the whole file.
Status WriteArchive(const std::vector<std::string>& paths, ByteSink* sink, const CancelToken* cancel,
                    const HeldFiles* held, Manifest* manifest, ArchiveCounters* counters);

}  // namespace xfer
