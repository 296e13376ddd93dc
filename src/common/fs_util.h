// Small filesystem helpers shared by the code that touches the destination: an owned file
// descriptor and random names that cannot collide with what is already there.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "xfer/status.h"

namespace xfer {

// Owns one file descriptor and closes it when it goes out of scope. -1 means "none".
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }
  // Closes the current descriptor (errors ignored: nothing useful to do on close of a read fd
  // or a directory; data durability is established by fsync/syncfs, never by close).
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// dir + "/" + name, without doubling a trailing slash of dir.
std::string JoinPath(const std::string& dir, const std::string& name);

// "/proc/self/fd/N": a path naming what descriptor fd is open on, whatever its path is now.
std::string ProcFdPath(int fd);

// The names in the directory open as dir_fd ("." and ".." left out), read to the end before the
// caller changes anything in it. dir_fd stays open and ours. Errors say "reading <shown>: ...".
Status ListNames(int dir_fd, const std::string& shown, std::vector<std::string>* names);

// 2 * bytes lowercase hex digits from getrandom(): unpredictable names for hidden directories.
Status RandomHex(size_t bytes, std::string* out);

}  // namespace xfer
