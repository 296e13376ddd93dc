#include "tree_builder.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "tree_corners.h"
#include "tree_entries.h"
#include "tree_walk.h"

namespace xfer::testing {

namespace {

constexpr uint64_t kMiB = 1024 * 1024;

void BuildFiles(int top) {
  MakeFileAt(top, "empty", "");
  MakeFileAt(top, "small.txt", "hello, xfer\n");
  std::string mixed = PseudoRandom(kMiB, 1);
  mixed += std::string(kMiB / 2, '\0');
  std::string text;
  while (text.size() < kMiB) text += "The quick brown fox jumps over the lazy dog. ";
  mixed += text.substr(0, kMiB);
  mixed += PseudoRandom(kMiB / 2 + 123, 2);  // 3 MiB + 123: not a multiple of any block size
  MakeFileAt(top, "mixed.bin", mixed);
}

void BuildSparse(int top, const std::string& top_name, TestTree* tree) {
  // 64 MiB apparent: hole [0, 8M), data [8M, 9M), hole [9M, 40M), data [40M, 42M), hole to 64M.
  int fd = openat(top, "sparse.img", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) {
    ADD_FAILURE() << "creating sparse.img: " << strerror(errno);
    return;
  }
  WriteAllAt(fd, PseudoRandom(kMiB, 3), 8 * kMiB, "sparse.img");
  WriteAllAt(fd, PseudoRandom(2 * kMiB, 4), 40 * kMiB, "sparse.img");
  ExpectCallOk(ftruncate(fd, 64 * kMiB), "truncating sparse.img");
  struct stat st;
  ExpectCallOk(fstat(fd, &st), "stat sparse.img");
  close(fd);
  tree->sparse_file = top_name + "/sparse.img";
  tree->sparse = static_cast<uint64_t>(st.st_blocks) * 512 < 16 * kMiB;
  if (!tree->sparse) tree->notes.push_back("the filesystem does not keep holes");

  // All hole: libarchive maps it as one empty data extent.
  fd = openat(top, "all_hole.img", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    ADD_FAILURE() << "creating all_hole.img: " << strerror(errno);
    return;
  }
  ExpectCallOk(ftruncate(fd, 3 * kMiB + 5), "truncating all_hole.img");
  close(fd);
}

void BuildDirsAndModes(int top) {
  int dir = MakeDirAt(top, "dir");
  int sub = MakeDirAt(dir, "sub");
  close(MakeDirAt(sub, "deeper"));
  MakeFileAt(sub, "file", "in a subdirectory\n");
  close(sub);
  close(dir);
  close(MakeDirAt(top, "emptydir"));

  int modes = MakeDirAt(top, "modes");
  MakeFileAt(modes, "setuid", "#!/bin/sh\n", 0755);
  MakeFileAt(modes, "setgid", "#!/bin/sh\n", 0755);
  MakeFileAt(modes, "none", "nobody may read this\n");
  // chown() clears setuid/setgid, so owners first, then modes.
  ExpectCallOk(fchownat(modes, "setuid", 1234, 5678, 0), "chown setuid");
  ExpectCallOk(fchmodat(modes, "setuid", 04755, 0), "chmod setuid");
  ExpectCallOk(fchmodat(modes, "setgid", 02711, 0), "chmod setgid");
  ExpectCallOk(fchmodat(modes, "none", 0, 0), "chmod none");
  close(MakeDirAt(modes, "sticky"));
  ExpectCallOk(fchmodat(modes, "sticky", 01777, 0), "chmod sticky");
  int locked = MakeDirAt(modes, "locked");
  MakeFileAt(locked, "inside", "under a 0000 directory\n");
  close(locked);
  ExpectCallOk(fchmodat(modes, "locked", 0, 0), "chmod locked");
  int readonly = MakeDirAt(modes, "readonly");
  MakeFileAt(readonly, "inside", "under a 0500 directory\n");
  close(readonly);
  ExpectCallOk(fchmodat(modes, "readonly", 0500, 0), "chmod readonly");
  close(modes);

  int owned = MakeDirAt(top, "owned");
  MakeFileAt(owned, "file", "owned by 1234:5678\n");
  ExpectCallOk(fchownat(owned, "file", 1234, 5678, 0), "chown owned/file");
  ExpectCallOk(symlinkat("file", owned, "link"), "symlink owned/link");
  ExpectCallOk(fchownat(owned, "link", 4321, 8765, AT_SYMLINK_NOFOLLOW), "lchown owned/link");
  close(MakeDirAt(owned, "dir", 0750));
  ExpectCallOk(fchownat(owned, "dir", 1234, 5678, 0), "chown owned/dir");
  close(owned);
}

void BuildSpecials(int top) {
  int special = MakeDirAt(top, "special");
  ExpectCallOk(mkfifoat(special, "fifo", 0620), "mkfifo");
  ExpectCallOk(mknodat(special, "null", S_IFCHR | 0666, makedev(1, 3)), "mknod char");
  ExpectCallOk(mknodat(special, "block", S_IFBLK | 0660, makedev(7, 200)), "mknod block");
  close(special);
}

}  // namespace

void StampTimes(const std::string& root) {
  int64_t counter = 0;
  auto stamp = [&counter](int dir_fd, const char* name, const std::string& = "") {
    ++counter;
    struct timespec times[2];
    times[1].tv_sec = 1500000000 + counter * 3607;
    times[1].tv_nsec = (counter * 123456789) % 1000000000 + 1;  // never a whole second
    times[0] = times[1];
    ExpectCallOk(utimensat(dir_fd, name, times, AT_SYMLINK_NOFOLLOW),
                 std::string("utimensat ") + name);
  };
  std::string parent = root.substr(0, root.rfind('/'));
  std::string name = root.substr(root.rfind('/') + 1);
  int parent_fd = open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int root_fd = openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  WalkPostOrder(root_fd, stamp);
  stamp(parent_fd, name.c_str());
  close(root_fd);
  close(parent_fd);
}

void BuildTestTree(const std::string& parent, const std::string& name, TestTree* tree) {
  tree->root = parent + "/" + name;
  int parent_fd = open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(parent_fd, 0) << parent << ": " << strerror(errno);
  int top = MakeDirAt(parent_fd, name);
  close(parent_fd);
  BuildFiles(top);
  BuildSparse(top, name, tree);
  BuildDirsAndModes(top);
  BuildSpecials(top);
  Corners corners;
  BuildCorners(top, tree->root, name, &corners);
  tree->deep_file = corners.deep_file;
  tree->xattrs = corners.xattrs;
  tree->acls = corners.acls;
  tree->notes.insert(tree->notes.end(), corners.notes.begin(), corners.notes.end());
  close(top);
  StampTimes(tree->root);
}

}  // namespace xfer::testing
