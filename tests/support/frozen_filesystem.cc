#include "frozen_filesystem.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "run_command.h"

namespace xfer::testing {

std::unique_ptr<LoopExt4Mount> LoopExt4Mount::Mount(const std::string& image,
                                                    const std::string& dir, int size_mb,
                                                    std::string* error) {
  int fd = open(image.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || ftruncate(fd, static_cast<off_t>(size_mb) << 20) != 0) {
    *error = "creating " + image + ": " + strerror(errno);
    if (fd >= 0) close(fd);
    return nullptr;
  }
  close(fd);
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{"/usr/sbin/mkfs.ext4", "-q", "-F", image},
        {"/usr/bin/mount", "-o", "loop", image, dir}}) {
    Status done = cli::RunCommand(argv, std::chrono::seconds(60));
    if (!done.ok()) {
      *error = done.message();
      unlink(image.c_str());
      return nullptr;
    }
  }
  return std::unique_ptr<LoopExt4Mount>(new LoopExt4Mount(image, dir));
}

LoopExt4Mount::~LoopExt4Mount() {
  // A loop mount frees its loop device when unmounted ("autoclear"). Lazy: a process the test
  // failed to end must not keep the mount.
  umount2(dir_.c_str(), MNT_DETACH);
  unlink(image_.c_str());
}

std::unique_ptr<FrozenFilesystem> FrozenFilesystem::Freeze(const std::string& dir,
                                                           std::string* error) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ioctl(fd, FIFREEZE, 0) != 0) {
    *error = "freezing the filesystem of " + dir + ": " + strerror(errno);
    if (fd >= 0) close(fd);
    return nullptr;
  }
  return std::unique_ptr<FrozenFilesystem>(new FrozenFilesystem(fd));
}

FrozenFilesystem::~FrozenFilesystem() {
  ioctl(fd_, FITHAW, 0);
  close(fd_);
}

}  // namespace xfer::testing
