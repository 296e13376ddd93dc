// A filesystem a test can freeze, to hold a program at the moment it first writes there: a
// frozen filesystem blocks every write, an unlink or rmdir too, until it thaws. How a test
// observes what a program does before it cleans up, without sleeping or timing it.
//   LoopExt4Mount: a small ext4 in an image file, loop-mounted on a directory (tmpfs, where
//     tests usually write, cannot freeze); unmounted and its image removed by the destructor.
//   FrozenFilesystem: freezes the filesystem holding a directory for as long as it lives.
// Needs root. Declare a FrozenFilesystem after the processes it holds: it must thaw before
// their destructors wait for them, or they wait for a process that cannot move.
#pragma once

#include <memory>
#include <string>

namespace xfer::testing {

class LoopExt4Mount {
 public:
  // Makes image (size_mb MiB, mkfs.ext4) and mounts it on dir, an existing directory. On
  // failure returns null and says why in *error.
  static std::unique_ptr<LoopExt4Mount> Mount(const std::string& image, const std::string& dir,
                                              int size_mb, std::string* error);
  ~LoopExt4Mount();
  LoopExt4Mount(const LoopExt4Mount&) = delete;
  LoopExt4Mount& operator=(const LoopExt4Mount&) = delete;

 private:
  LoopExt4Mount(std::string image, std::string dir)
      : image_(std::move(image)), dir_(std::move(dir)) {}

  std::string image_;
  std::string dir_;
};

class FrozenFilesystem {
 public:
  // Freezes the filesystem holding dir (ioctl FIFREEZE); null, with *error, if it cannot.
  static std::unique_ptr<FrozenFilesystem> Freeze(const std::string& dir, std::string* error);
  // Thaws it (FITHAW).
  ~FrozenFilesystem();
  FrozenFilesystem(const FrozenFilesystem&) = delete;
  FrozenFilesystem& operator=(const FrozenFilesystem&) = delete;

 private:
  explicit FrozenFilesystem(int fd) : fd_(fd) {}

  int fd_;  // the directory, open: what FITHAW is called on
};

}  // namespace xfer::testing
