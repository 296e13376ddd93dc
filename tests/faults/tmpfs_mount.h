// TmpfsMount: a size-limited tmpfs on a directory for one test (the destination whose disk fills
// up), unmounted by the destructor whatever the test's outcome. Needs root.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace xfer::testing {

class TmpfsMount {
 public:
  // Mounts a tmpfs of size_bytes on dir (an existing empty directory). On failure returns null
  // and says why in *error.
  static std::unique_ptr<TmpfsMount> Mount(const std::string& dir, uint64_t size_bytes,
                                           std::string* error);
  ~TmpfsMount();
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  const std::string& dir() const { return dir_; }
  uint64_t size_bytes() const { return size_bytes_; }

  // mount -o remount,size=N: what an operator does to give a full disk more room.
  bool Resize(uint64_t size_bytes, std::string* error);

  // Takes every free block with the file dir()/name, so that the next write anyone makes there
  // fails with ENOSPC. Returns the bytes it took.
  uint64_t FillUp(const std::string& name);

 private:
  TmpfsMount(std::string dir, uint64_t size_bytes)
      : dir_(std::move(dir)), size_bytes_(size_bytes) {}

  std::string dir_;
  uint64_t size_bytes_;
};

}  // namespace xfer::testing
