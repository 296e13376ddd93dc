#include "tree_builder.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>

namespace xfer::testing {

namespace {

constexpr uint64_t kMiB = 1024 * 1024;

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

void MakeFile(int dir_fd, const std::string& name, const std::string& content, mode_t mode = 0644) {
  int fd = openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    ADD_FAILURE() << "creating " << name << ": " << strerror(errno);
    return;
  }
  WriteAllAt(fd, content, 0, name);
  close(fd);
}

// Creates dir_fd/name and returns a descriptor of it (the caller closes it).
int MakeDir(int dir_fd, const std::string& name, mode_t mode = 0755) {
  if (mkdirat(dir_fd, name.c_str(), mode) != 0) {
    ADD_FAILURE() << "mkdir " << name << ": " << strerror(errno);
  }
  int fd = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) ADD_FAILURE() << "opening " << name << ": " << strerror(errno);
  return fd;
}

void Check(int result, const std::string& what) {
  if (result != 0) ADD_FAILURE() << what << ": " << strerror(errno);
}

// Runs a shell command; the paths given to it are short and free of quotes.
bool Shell(const std::string& command) { return system(command.c_str()) == 0; }

void BuildFiles(int top) {
  MakeFile(top, "empty", "");
  MakeFile(top, "small.txt", "hello, xfer\n");
  std::string mixed = PseudoRandom(kMiB, 1);
  mixed += std::string(kMiB / 2, '\0');
  std::string text;
  while (text.size() < kMiB) text += "The quick brown fox jumps over the lazy dog. ";
  mixed += text.substr(0, kMiB);
  mixed += PseudoRandom(kMiB / 2 + 123, 2);  // 3 MiB + 123: not a multiple of any block size
  MakeFile(top, "mixed.bin", mixed);
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
  Check(ftruncate(fd, 64 * kMiB), "truncating sparse.img");
  struct stat st;
  Check(fstat(fd, &st), "stat sparse.img");
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
  Check(ftruncate(fd, 3 * kMiB + 5), "truncating all_hole.img");
  close(fd);
}

void BuildDirsAndModes(int top) {
  int dir = MakeDir(top, "dir");
  int sub = MakeDir(dir, "sub");
  close(MakeDir(sub, "deeper"));
  MakeFile(sub, "file", "in a subdirectory\n");
  close(sub);
  close(dir);
  close(MakeDir(top, "emptydir"));

  int modes = MakeDir(top, "modes");
  MakeFile(modes, "setuid", "#!/bin/sh\n", 0755);
  MakeFile(modes, "setgid", "#!/bin/sh\n", 0755);
  MakeFile(modes, "none", "nobody may read this\n");
  // chown() clears setuid/setgid, so owners first, then modes.
  Check(fchownat(modes, "setuid", 1234, 5678, 0), "chown setuid");
  Check(fchmodat(modes, "setuid", 04755, 0), "chmod setuid");
  Check(fchmodat(modes, "setgid", 02711, 0), "chmod setgid");
  Check(fchmodat(modes, "none", 0, 0), "chmod none");
  close(MakeDir(modes, "sticky"));
  Check(fchmodat(modes, "sticky", 01777, 0), "chmod sticky");
  int locked = MakeDir(modes, "locked");
  MakeFile(locked, "inside", "under a 0000 directory\n");
  close(locked);
  Check(fchmodat(modes, "locked", 0, 0), "chmod locked");
  int readonly = MakeDir(modes, "readonly");
  MakeFile(readonly, "inside", "under a 0500 directory\n");
  close(readonly);
  Check(fchmodat(modes, "readonly", 0500, 0), "chmod readonly");
  close(modes);

  int owned = MakeDir(top, "owned");
  MakeFile(owned, "file", "owned by 1234:5678\n");
  Check(fchownat(owned, "file", 1234, 5678, 0), "chown owned/file");
  Check(symlinkat("file", owned, "link"), "symlink owned/link");
  Check(fchownat(owned, "link", 4321, 8765, AT_SYMLINK_NOFOLLOW), "lchown owned/link");
  close(MakeDir(owned, "dir", 0750));
  Check(fchownat(owned, "dir", 1234, 5678, 0), "chown owned/dir");
  close(owned);
}

void BuildLinksAndSpecials(int top) {
  int links = MakeDir(top, "links");
  Check(symlinkat("../small.txt", links, "relative"), "symlink relative");
  Check(symlinkat("/etc/hostname", links, "absolute"), "symlink absolute");
  Check(symlinkat("nowhere/at/all", links, "dangling"), "symlink dangling");
  close(links);

  int hard = MakeDir(top, "hard");
  MakeFile(hard, "one", "three names, one inode\n");
  Check(linkat(hard, "one", hard, "two", 0), "link hard/two");
  int sub = MakeDir(hard, "sub");
  Check(linkat(hard, "one", sub, "three", 0), "link hard/sub/three");
  close(sub);
  close(hard);

  int special = MakeDir(top, "special");
  Check(mkfifoat(special, "fifo", 0620), "mkfifo");
  Check(mknodat(special, "null", S_IFCHR | 0666, makedev(1, 3)), "mknod char");
  Check(mknodat(special, "block", S_IFBLK | 0660, makedev(7, 200)), "mknod block");
  close(special);
}

void BuildXattrs(int top, TestTree* tree) {
  int dir = MakeDir(top, "xattr");
  MakeFile(dir, "file", "with extended attributes\n");
  int fd = openat(dir, "file", O_RDONLY | O_CLOEXEC);
  static const char kBinary[] = {'\0', '\xff', '\x01', 'b', 'i', 'n', '\n', '\0'};
  if (fsetxattr(fd, "user.foo", kBinary, sizeof kBinary, 0) != 0) {
    tree->notes.push_back(std::string("no user xattrs: ") + strerror(errno));
  } else {
    tree->xattrs = true;
    Check(fsetxattr(fd, "user.empty", "", 0, 0), "setxattr user.empty");
    Check(fsetxattr(dir, "user.on_dir", "directory value", 15, 0), "setxattr on dir");
  }
  close(fd);
  close(dir);
}

void BuildAcls(int top, const std::string& top_path, TestTree* tree) {
  int dir = MakeDir(top, "acl");
  MakeFile(dir, "file", "with an access ACL\n");
  int defaults_dir = MakeDir(dir, "defaults");
  // Made before the default ACL is set: no ACL of its own. A copy created under the default ACL
  // inherits one, which must then be taken away again.
  MakeFile(defaults_dir, "plain", "no ACL\n");
  close(MakeDir(defaults_dir, "plain_dir"));
  close(defaults_dir);
  close(dir);
  std::string file = top_path + "/acl/file";
  std::string defaults = top_path + "/acl/defaults";
  tree->acls = Shell("setfacl -m u:1234:rwx,g:5678:r-x '" + file + "'") &&
               Shell("setfacl -d -m u:1234:rwx,g:5678:r-x,o::- '" + defaults + "'") &&
               Shell("setfacl -m u:4321:r-x '" + defaults + "'");
  if (!tree->acls) {
    tree->notes.push_back("setfacl failed: no ACLs");
    return;
  }
  // Created under a default ACL: inherits an access ACL (and, as a directory, the default one).
  int defaults_fd = open(defaults.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  MakeFile(defaults_fd, "inherited", "inherits the default ACL\n");
  close(MakeDir(defaults_fd, "inherited_dir"));
  close(defaults_fd);
}

void BuildNames(int top) {
  int names = MakeDir(top, "names");
  for (const char* name : {"with space", "tab\there", "new\nline", "quote'\"s", "\xff\xfe", "-dash",
                           "back\\slash", "caf\xc3\xa9"}) {
    MakeFile(names, name, std::string("named ") + name + "\n");
  }
  MakeFile(names, std::string(255, 'n'), "a 255-byte name\n");
  close(names);
}

// deep/ + 20 directories of 220 bytes: paths of about 4.5 KiB below the top. At the bottom: a
// file (with an xattr when the filesystem takes them), a second name for it, a symlink, and a
// 0500 directory; a third name of the file sits at the top, so a short hardlink points deep.
std::string BuildDeep(int top, const std::string& top_name, bool xattrs) {
  std::string rel = top_name + "/deep";
  int dir = MakeDir(top, "deep");
  for (int i = 0; i < 20; ++i) {
    std::string name = std::to_string(i) + "_" + std::string(217, static_cast<char>('a' + i));
    int next = MakeDir(dir, name);
    close(dir);
    dir = next;
    rel += "/" + name;
  }
  MakeFile(dir, "file", "at the end of a very long path\n");
  if (xattrs) {
    int fd = openat(dir, "file", O_RDONLY | O_CLOEXEC);
    Check(fsetxattr(fd, "user.deep", "down here", 9, 0), "setxattr on the deep file");
    close(fd);
  }
  Check(linkat(dir, "file", dir, "file_again", 0), "link deep file_again");
  Check(linkat(dir, "file", top, "far_link", 0), "link far_link");
  Check(symlinkat("file", dir, "link"), "symlink deep link");
  // A sparse file under a path no ustar name holds (libarchive 3.6 would name it by the
  // truncated ustar name: entry_marks.h).
  int sparse = openat(dir, "sparse_far", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  Check(sparse >= 0 ? 0 : -1, "creating deep sparse_far");
  WriteAllAt(sparse, PseudoRandom(4096, 5), kMiB, "sparse_far");
  Check(ftruncate(sparse, 4 * kMiB), "truncating deep sparse_far");
  close(sparse);
  close(MakeDir(dir, "sub", 0500));
  close(dir);
  return rel + "/file";
}

// Post-order walk without following symlinks: visit(parent_fd, name) for every entry below
// dir_fd, children before their directory.
void WalkPostOrder(int dir_fd, const std::function<void(int, const char*)>& visit) {
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

}  // namespace

void StampTimes(const std::string& root) {
  int64_t counter = 0;
  auto stamp = [&counter](int dir_fd, const char* name) {
    ++counter;
    struct timespec times[2];
    times[1].tv_sec = 1500000000 + counter * 3607;
    times[1].tv_nsec = (counter * 123456789) % 1000000000 + 1;  // never a whole second
    times[0] = times[1];
    Check(utimensat(dir_fd, name, times, AT_SYMLINK_NOFOLLOW), std::string("utimensat ") + name);
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
  int top = MakeDir(parent_fd, name);
  close(parent_fd);
  BuildFiles(top);
  BuildSparse(top, name, tree);
  BuildDirsAndModes(top);
  BuildLinksAndSpecials(top);
  BuildXattrs(top, tree);
  BuildAcls(top, tree->root, tree);
  BuildNames(top);
  tree->deep_file = BuildDeep(top, name, tree->xattrs);
  close(top);
  StampTimes(tree->root);
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
