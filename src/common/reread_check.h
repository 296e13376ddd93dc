// RereadCheck: the receiver's optional after-write check (xfer-recv --checksum). Once the staged
// data is synced, every regular file is dropped from the page cache and read back (its data: holes
// are not read), and its content digest compared with the sender's manifest record: what the disk
// returns is then what the sender read, without reading the source a second time.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "content_digest.h"
#include "fs_util.h"
#include "manifest.h"
#include "xfer/cancel.h"
#include "xfer/status.h"

namespace xfer {

struct RereadStats {
  uint64_t files = 0;
  uint64_t bytes = 0;
  double seconds = 0;

  // "re-read 12 files (3.4 GiB) in 5.2 s", for the log.
  std::string Describe() const;
};

// Re-reads the written files one manifest record at a time, as the sender's MANIFEST is checked
// (the receiver keeps no paths of its own: received_stream.h).
class RereadCheck {
 public:
  explicit RereadCheck(const CancelToken* cancel) : cancel_(cancel) {}

  // staging_dir: where the files are (StagingDir::anchor()). The pages are clean only after a
  // sync, and only clean pages leave the cache: open it after StagingDir::Sync().
  Status Open(const std::string& staging_dir);

  // Reads staging_dir/PATH of the record (paths of any length; no symlink is followed on the
  // way) and compares size and digest. Fails with Code::kCorrupt naming the file when they
  // differ, with the read error naming it when it cannot be read, and with Code::kCancelled once
  // cancel (may be null) is set.
  Status Check(const ManifestRecord& record);

  // What was re-read since Open.
  RereadStats stats() const;

 private:
  const CancelToken* cancel_;
  UniqueFd dir_fd_;
  std::vector<char> buffer_;
  ContentDigest hasher_;
  RereadStats done_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace xfer
