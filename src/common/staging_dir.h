// StagingDir: a hidden directory inside the destination where a transfer is written before it is
// verified. It removes itself (and everything in it) unless Commit() succeeded, so a failed
// transfer leaves the destination as it was.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xfer/status.h"

namespace xfer {

class StagingDir {
 public:
  StagingDir() = default;
  ~StagingDir();
  StagingDir(StagingDir&& other) noexcept;
  StagingDir& operator=(StagingDir&& other) noexcept;
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;

  // dest_dir must exist and be a directory. Creates dest_dir/.xfer-staging-<random> (mode 0700).
  static Status Create(const std::string& dest_dir, StagingDir* out);

  // Absolute, symlink-free path of the staging directory (realpath of dest_dir + the hidden name).
  const std::string& path() const { return path_; }
  // Absolute, symlink-free path of the destination directory.
  const std::string& dest_dir() const { return dest_dir_; }

  // Makes everything written under the staging directory durable (syncfs of its filesystem).
  Status Sync() const;

  // Moves staging/NAME to dest/NAME for each name, then fsyncs dest. With overwrite an existing
  // dest/NAME is swapped out atomically (renameat2 RENAME_EXCHANGE) and then removed; without it
  // an existing dest/NAME fails with Code::kExists before anything moves. After success the
  // (now empty) staging directory is removed.
  Status Commit(const std::vector<std::string>& names, bool overwrite);

  // Removes the staging tree now. Also done by the destructor when not committed.
  void Remove();

 private:
  std::string dest_dir_;
  std::string path_;
};

// Fails with Code::kExists naming the first dest_dir/NAME that already exists.
Status CheckTargetsAbsent(const std::string& dest_dir, const std::vector<std::string>& names);

// Sets *out to the bytes an unprivileged writer may still use on dir's filesystem (root's reserve
// is not counted on).
Status AvailableBytes(const std::string& dir, uint64_t* out);

// Fails with Code::kNoSpace when dest_dir's filesystem has fewer than needed_bytes available:
// "not enough space in /data: need 12.3 GiB, 4.1 GiB free".
Status CheckFreeSpace(const std::string& dest_dir, uint64_t needed_bytes);

// "12.3 GiB", "512 B": sizes for people.
std::string FormatBytes(uint64_t bytes);

// Removes a tree without following symlinks; paths of any length. Missing is not an error.
Status RemoveTree(const std::string& path);

}  // namespace xfer
