#include "tree_entries.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace xfer::testing {

void WriteAllAt(int fd, const std::string& data, off_t offset, const std::string& what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = pwrite(fd, data.data() + done, data.size() - done, offset + done);
    if (n <= 0) {
      ADD_FAILURE() << "writing " << what << ": " << strerror(errno);
      return;
    }
    done += static_cast<size_t>(n);
  }
}

void MakeFileAt(int dir_fd, const std::string& name, const std::string& content, mode_t mode) {
  int fd = openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    ADD_FAILURE() << "creating " << name << ": " << strerror(errno);
    return;
  }
  WriteAllAt(fd, content, 0, name);
  close(fd);
}

int MakeDirAt(int dir_fd, const std::string& name, mode_t mode) {
  if (mkdirat(dir_fd, name.c_str(), mode) != 0) {
    ADD_FAILURE() << "mkdir " << name << ": " << strerror(errno);
  }
  int fd = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) ADD_FAILURE() << "opening " << name << ": " << strerror(errno);
  return fd;
}

void ExpectCallOk(int result, const std::string& what) {
  if (result != 0) ADD_FAILURE() << what << ": " << strerror(errno);
}

// A xorshift stream.
std::string PseudoRandom(size_t len, uint64_t seed) {
  std::string out(len, '\0');
  uint64_t x = seed | 1;
  for (size_t i = 0; i < len; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<char>(x >> 24);
  }
  return out;
}

}  // namespace xfer::testing
