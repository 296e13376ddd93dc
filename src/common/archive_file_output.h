// ArchiveFileOutput: the receiver's other destination (`xfer-recv --to-archive FILE.tar.zst`).
//
// Instead of extracting the received pax stream, the receiver stores it as a standard archive
// file, byte for byte (zstd-compressed for .tar.zst / .tzst), so that `tar --zstd -xpf FILE`
// restores the tree later and `xfer-send --from-archive FILE` can send it again. The stream is
// parsed on the way through, with the same checks as the extractor (entry paths, types, hardlink
// targets, symlinks), to produce the manifest records ExtractArchive would have written.
//
// All or nothing: the file is written under `<path>.xfer-partial-<16 hex>` in the same directory
// (mode 0600) and renamed into place by Commit(); otherwise the destructor removes it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "archive_extractor.h"
#include "byte_stream.h"
#include "fs_util.h"
#include "manifest.h"
#include "xfer/cancel.h"
#include "xfer/status.h"

namespace xfer {

class ArchiveFileSink;

class ArchiveFileOutput {
 public:
  // Level 1 compresses the db dataset better than 3 (456 against 490 MB of 1176) at 3x the speed.
  static constexpr int kDefaultZstdLevel = 1;

  // path ends in .tar (stored as is) or .tar.zst / .tzst (zstd-compressed). Fails, naming the
  // path, for another suffix, a directory that does not exist or takes no new files, or a path
  // that exists unless overwrite. Creates the temporary file (O_EXCL, mode 0600 until Commit, then
  // 0644 & ~umask) in the same directory.
  static Status Create(const std::string& path, bool overwrite,
                       std::unique_ptr<ArchiveFileOutput>* out);
  ~ArchiveFileOutput();  // removes the temporary file unless committed
  ArchiveFileOutput(const ArchiveFileOutput&) = delete;
  ArchiveFileOutput& operator=(const ArchiveFileOutput&) = delete;

  // For .tar.zst, before Store: the zstd level (default 1) and its worker threads (0: one per
  // online core). Ignored for .tar.
  void SetCompression(int level, int workers);

  // Copies every byte of stream into the file (up to the stream's end, len 0, past the archive's
  // end marker too) and meanwhile parses it, appending one WrittenFile per regular file, the
  // same records ExtractArchive would produce. Refuses what the extractor refuses (paths outside
  // top_names, absolute or with "..", unsupported types, hardlinks pointing outside, entries
  // through a symlink of the stream) and resumed entries (a resume mark, entry_marks.h): an archive
  // file holds no partial files. Fails when the stream ends without an end-of-archive marker.
  // Counters (may be null): content_bytes_written (logical, holes included) and entries_written.
  // Once only.
  Status Store(ByteSource* stream, const std::vector<std::string>& top_names,
               const CancelToken* cancel, WrittenFiles* written, ExtractCounters* counters);

  // After a successful Store: gives the file its final mode, makes it durable (fsync when sync),
  // renames it into place (never over an entry created meanwhile, unless overwrite), then fsyncs
  // the directory (when sync).
  Status Commit(bool sync);

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }
  // Bytes written to the file so far (compressed size for .tar.zst).
  uint64_t file_bytes() const;

 private:
  ArchiveFileOutput(std::string path, bool overwrite, bool compress, UniqueFd dir,
                    std::string temp_name, UniqueFd file);

  std::string path_;
  bool overwrite_;
  bool compress_;
  int zstd_level_ = kDefaultZstdLevel;
  int zstd_workers_ = 0;
  UniqueFd dir_;           // the directory of path_, for renameat and its fsync
  std::string base_name_;  // path_'s last component
  std::string temp_name_;  // the temporary file's name in dir_
  std::string temp_path_;
  UniqueFd file_;
  std::unique_ptr<ArchiveFileSink> sink_;
  bool stored_ = false;    // Store() ran (successfully or not)
  bool complete_ = false;  // Store() succeeded
  bool committed_ = false;
};

}  // namespace xfer
