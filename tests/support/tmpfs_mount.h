// TmpfsMount: a tmpfs on a directory for one test (a small disk that fills up, a read-only one),
// unmounted by the destructor whatever the test's outcome. Needs root.
#pragma once

#include <sys/mount.h>

#include <cstdint>
#include <memory>
#include <string>

namespace xfer::testing {

class TmpfsMount {
 public:
  // Mounts a tmpfs with `mount -o options` ("size=1m,mode=0700") and flags (MS_RDONLY...; nosuid
  // and nodev always) on dir, an existing directory. On failure returns null and says why in
  // *error: "mount -t tmpfs -o size=1m tmpfs DIR: Operation not permitted".
  static std::unique_ptr<TmpfsMount> Mount(const std::string& dir, const std::string& options,
                                           std::string* error, unsigned long flags = 0);
  // A tmpfs of size_bytes, mode 0755.
  static std::unique_ptr<TmpfsMount> Mount(const std::string& dir, uint64_t size_bytes,
                                           std::string* error);
  ~TmpfsMount();
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  const std::string& dir() const { return dir_; }
  // Its size now, as statvfs reports it.
  uint64_t size_bytes() const;

  // mount -o remount,size=N: what an operator does to give a full disk more room.
  bool Resize(uint64_t size_bytes, std::string* error);

  // Takes every free block with the file dir()/name, so that the next write anyone makes there
  // fails with ENOSPC. Returns the bytes it took.
  uint64_t FillUp(const std::string& name);

 private:
  explicit TmpfsMount(std::string dir) : dir_(std::move(dir)) {}

  std::string dir_;
};

}  // namespace xfer::testing
