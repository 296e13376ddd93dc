#include "fs_util.h"

#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace xfer {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
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
