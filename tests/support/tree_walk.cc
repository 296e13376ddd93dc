#include "tree_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace xfer::testing {

namespace {

void WalkBelow(int dir_fd, const std::string& prefix, const WalkVisitor& visit) {
  int dup_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  std::unique_ptr<DIR, int (*)(DIR*)> dir(fdopendir(dup_fd), closedir);
  if (!dir) {
    ADD_FAILURE() << "listing " << (prefix.empty() ? "." : prefix) << ": " << strerror(errno);
    return;
  }
  std::vector<std::string> names;
  while (const dirent* entry = readdir(dir.get())) {
    if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) {
      names.emplace_back(entry->d_name);
    }
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::string path = prefix + name;
    struct stat st;
    if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      int sub = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        ADD_FAILURE() << "opening " << path << ": " << strerror(errno);
        continue;
      }
      WalkBelow(sub, path + "/", visit);
      close(sub);
    }
    visit(dir_fd, name.c_str(), path);
  }
}

}  // namespace

void WalkPostOrder(int dir_fd, const WalkVisitor& visit) { WalkBelow(dir_fd, "", visit); }

int OpenBelow(int dir_fd, const std::string& path, int flags) {
  int parent = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  size_t start = 0;
  for (size_t slash = path.find('/'); parent >= 0 && slash != std::string::npos;
       slash = path.find('/', start)) {
    std::string component = path.substr(start, slash - start);
    int next = openat(parent, component.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int saved = errno;
    close(parent);
    errno = saved;
    parent = next;
    start = slash + 1;
  }
  if (parent < 0) return -1;
  int fd = openat(parent, path.c_str() + start, flags | O_NOFOLLOW | O_CLOEXEC);
  int saved = errno;
  close(parent);
  errno = saved;
  return fd;
}

}  // namespace xfer::testing
