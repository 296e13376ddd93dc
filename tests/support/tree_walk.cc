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
#include <string>
#include <vector>

namespace xfer::testing {

void WalkPostOrder(int dir_fd, const std::function<void(int parent_fd, const char* name)>& visit) {
  int dup_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  std::unique_ptr<DIR, int (*)(DIR*)> dir(fdopendir(dup_fd), closedir);
  if (!dir) {
    ADD_FAILURE() << "listing: " << strerror(errno);
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
    struct stat st;
    if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      int sub = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        ADD_FAILURE() << "opening " << name << ": " << strerror(errno);
        continue;
      }
      WalkPostOrder(sub, visit);
      close(sub);
    }
    visit(dir_fd, name.c_str());
  }
}

}  // namespace xfer::testing
