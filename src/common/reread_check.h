// RereadCheck: the receiver's optional after-write check (xfer-recv --checksum). Once the staged
// data is synced, every regular file is dropped from the page cache and read back, and its
// XXH3-128 compared with the manifest's: what the disk returns is then what the sender read,
// without reading the source a second time.
#pragma once

#include <cstdint>
#include <string>

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

// Reads staging_dir/PATH for every record of the manifest (paths of any length; no symlink is
// followed on the way) and compares size and digest. Fails with Code::kCorrupt naming the file
// when they differ, with the read error naming it when it cannot be read, and with
// Code::kCancelled once cancel (may be null) is set. The pages are clean only after a sync, and
// only clean pages leave the cache: call it after StagingDir::Sync().
Status RereadCheck(const std::string& staging_dir, const Manifest& manifest,
                   const CancelToken* cancel, RereadStats* stats);

}  // namespace xfer
