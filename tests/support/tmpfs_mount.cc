#include "tmpfs_mount.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace xfer::testing {

namespace {

constexpr unsigned long kAlways = MS_NOSUID | MS_NODEV;

std::string SizeOption(uint64_t size_bytes) { return "size=" + std::to_string(size_bytes); }

}  // namespace

std::unique_ptr<TmpfsMount> TmpfsMount::Mount(const std::string& dir, const std::string& options,
                                              std::string* error, unsigned long flags) {
  if (mount("tmpfs", dir.c_str(), "tmpfs", kAlways | flags, options.c_str()) != 0) {
    *error = "mount -t tmpfs -o " + options + " tmpfs " + dir + ": " + strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<TmpfsMount>(new TmpfsMount(dir));
}

std::unique_ptr<TmpfsMount> TmpfsMount::Mount(const std::string& dir, uint64_t size_bytes,
                                              std::string* error) {
  return Mount(dir, SizeOption(size_bytes) + ",mode=0755", error);
}

TmpfsMount::~TmpfsMount() {
  // Lazy: a process the test failed to end must not keep the mount (and the test's RAM) around.
  umount2(dir_.c_str(), MNT_DETACH);
}

uint64_t TmpfsMount::size_bytes() const {
  struct statvfs vfs {};
  if (statvfs(dir_.c_str(), &vfs) != 0) return 0;
  return static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize;
}

bool TmpfsMount::Resize(uint64_t size_bytes, std::string* error) {
  std::string options = SizeOption(size_bytes);
  if (mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT | kAlways, options.c_str()) != 0) {
    *error = "mount -o remount," + options + " " + dir_ + ": " + strerror(errno);
    return false;
  }
  return true;
}

uint64_t TmpfsMount::FillUp(const std::string& name) {
  int fd = open((dir_ + "/" + name).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return 0;
  uint64_t taken = 0;
  struct statvfs vfs {};
  if (fstatvfs(fd, &vfs) == 0) {
    // Whatever another writer takes meanwhile, halving the request ends at a full disk.
    uint64_t want = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    while (want >= 4096) {
      if (fallocate(fd, 0, static_cast<off_t>(taken), static_cast<off_t>(want)) == 0) {
        taken += want;
      } else {
        want /= 2;
      }
    }
  }
  close(fd);
  return taken;
}

}  // namespace xfer::testing
