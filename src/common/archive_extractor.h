// ArchiveExtractor: reads a pax stream and writes its entries under a staging directory.
//
// Whatever the stream says, nothing is written outside the staging directory: absolute paths,
// `..` components, entries outside the announced top-level names, hardlinks pointing outside, and
// writing through a symlink are refused (our own checks, plus libarchive's
// ARCHIVE_EXTRACT_SECURE_NODOTDOT), and every name reaches the disk through the staging
// directory's descriptor with its parent resolved beneath it without following any symlink
// (archive_disk_path.h). Metadata is restored as `tar -xp --xattrs --acls --numeric-owner` would
// as root (less what ExtractOptions turns off), holes stay holes, directory mtimes are set last.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "byte_stream.h"
#include "held_file.h"
#include "manifest.h"
#include "path_digest.h"
#include "xfer/cancel.h"
#include "xfer/status.h"

namespace xfer {

class ResumeRecorder;

struct ExtractOptions {
  // Absolute; opened once, at the start, and from then on reached only through that descriptor.
  // The receiver passes StagingDir::anchor(), which names its own descriptor of the directory.
  std::string staging_dir;
  std::vector<std::string> top_names;  // every entry's first path component must be one of these
  // Resuming: the files this receiver told the sender it holds, in the staging directory (may be
  // null). Only these may come as resumed entries (a resume mark, entry_marks.h): a complete one
  // stays as it is, a held prefix is copied into the new file from the old one and checked against
  // its digest.
  const HeldFiles* held = nullptr;
  // With --resume: kept informed of what is written, for the journal (may be null).
  ResumeRecorder* recorder = nullptr;
  // Set when the staging directory is one an interrupted transfer left (adopted for a resume).
  // Then a directory entry whose directory exists gets a new one, into which the old one's
  // content moves (libarchive leaves an existing directory's metadata as it is); and after the
  // last entry, before directories get their metadata, this is called with every entry's path
  // and its parents (as PathDigest()s, path_digest.h): what the staging directory may keep.
  std::function<Status(const PathDigestSet& entry_paths)> prune_adopted = nullptr;
  // As ReceiveOptions (xfer/receiver.h): owners (only as root), devices, setuid/setgid bits
  // (never on what the receiving user owns in place of the sender's owner) restored.
  bool same_owner = true;
  bool devices = true;
  bool setuid = true;
};

struct ExtractCounters {
  std::atomic<uint64_t> content_bytes_written{0};  // held bytes of resumed files included
  std::atomic<uint64_t> entries_written{0};
  std::atomic<uint64_t> resumed_files{0};  // files (or prefixes) the receiver held already
  std::atomic<uint64_t> resumed_bytes{0};
};

// Extracts the whole stream (up to the archive's end marker), appending one WrittenFile per
// regular file written, in stream order. Errors name the entry: "writing db/ibdata1: No space
// left on device", "refusing entry '../x': path escapes the destination".
Status ExtractArchive(ByteSource* source, const ExtractOptions& options, const CancelToken* cancel,
                      WrittenFiles* written, ExtractCounters* counters);

}  // namespace xfer
