#include "fs_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

namespace xfer {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string ProcFdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

Status ListNames(int dir_fd, const std::string& shown, std::vector<std::string>* names) {
  // fdopendir takes its own descriptor, so that dir_fd stays the caller's.
  int dup_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return Status::FromErrno(errno, "reading " + shown);
  std::unique_ptr<DIR, int (*)(DIR*)> dir(fdopendir(dup_fd), closedir);
  if (!dir) {
    int err = errno;
    close(dup_fd);
    return Status::FromErrno(err, "reading " + shown);
  }
  for (;;) {
    errno = 0;
    const dirent* entry = readdir(dir.get());
    if (entry == nullptr) break;
    std::string name = entry->d_name;
    if (name != "." && name != "..") names->push_back(std::move(name));
  }
  if (errno != 0) return Status::FromErrno(errno, "reading " + shown);
  return Status::Ok();
}

Status RandomHex(size_t bytes, std::string* out) {
  std::vector<unsigned char> raw(bytes);
  size_t filled = 0;
  while (filled < bytes) {
    ssize_t n = getrandom(raw.data() + filled, bytes - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "getrandom");
    }
    filled += static_cast<size_t>(n);
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  out->clear();
  out->reserve(2 * bytes);
  for (unsigned char byte : raw) {
    out->push_back(kDigits[byte >> 4]);
    out->push_back(kDigits[byte & 0xf]);
  }
  return Status::Ok();
}

}  // namespace xfer
