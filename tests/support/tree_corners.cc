#include "tree_corners.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "tree_entries.h"

namespace xfer::testing {

namespace {

constexpr uint64_t kMiB = 1024 * 1024;

// Runs a shell command; the paths given to it are short and free of quotes.
bool Shell(const std::string& command) { return system(command.c_str()) == 0; }

void BuildLinks(int top) {
  int links = MakeDirAt(top, "links");
  ExpectCallOk(symlinkat("../small.txt", links, "relative"), "symlink relative");
  ExpectCallOk(symlinkat("/etc/hostname", links, "absolute"), "symlink absolute");
  ExpectCallOk(symlinkat("nowhere/at/all", links, "dangling"), "symlink dangling");
  close(links);

  int hard = MakeDirAt(top, "hard");
  MakeFileAt(hard, "one", "three names, one inode\n");
  ExpectCallOk(linkat(hard, "one", hard, "two", 0), "link hard/two");
  int sub = MakeDirAt(hard, "sub");
  ExpectCallOk(linkat(hard, "one", sub, "three", 0), "link hard/sub/three");
  close(sub);
  close(hard);
}

bool BuildXattrs(int top, std::vector<std::string>* notes) {
  int dir = MakeDirAt(top, "xattr");
  MakeFileAt(dir, "file", "with extended attributes\n");
  int fd = openat(dir, "file", O_RDONLY | O_CLOEXEC);
  static const char kBinary[] = {'\0', '\xff', '\x01', 'b', 'i', 'n', '\n', '\0'};
  bool set = fsetxattr(fd, "user.foo", kBinary, sizeof kBinary, 0) == 0;
  if (!set) {
    notes->push_back(std::string("no user xattrs: ") + strerror(errno));
  } else {
    ExpectCallOk(fsetxattr(fd, "user.empty", "", 0, 0), "setxattr user.empty");
    ExpectCallOk(fsetxattr(dir, "user.on_dir", "directory value", 15, 0), "setxattr on dir");
  }
  close(fd);
  close(dir);
  return set;
}

bool BuildAcls(int top, const std::string& top_path, std::vector<std::string>* notes) {
  int dir = MakeDirAt(top, "acl");
  MakeFileAt(dir, "file", "with an access ACL\n");
  int defaults_dir = MakeDirAt(dir, "defaults");
  // Made before the default ACL is set: no ACL of its own. A copy created under the default ACL
  // inherits one, which must then be taken away again.
  MakeFileAt(defaults_dir, "plain", "no ACL\n");
  close(MakeDirAt(defaults_dir, "plain_dir"));
  close(defaults_dir);
  close(dir);
  std::string file = top_path + "/acl/file";
  std::string defaults = top_path + "/acl/defaults";
  bool set = Shell("setfacl -m u:1234:rwx,g:5678:r-x '" + file + "'") &&
             Shell("setfacl -d -m u:1234:rwx,g:5678:r-x,o::- '" + defaults + "'") &&
             Shell("setfacl -m u:4321:r-x '" + defaults + "'");
  if (!set) {
    notes->push_back("setfacl failed: no ACLs");
    return false;
  }
  // Created under a default ACL: inherits an access ACL (and, as a directory, the default one).
  int defaults_fd = open(defaults.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  MakeFileAt(defaults_fd, "inherited", "inherits the default ACL\n");
  close(MakeDirAt(defaults_fd, "inherited_dir"));
  close(defaults_fd);
  return true;
}

void BuildNames(int top) {
  int names = MakeDirAt(top, "names");
  for (const char* name : {"with space", "tab\there", "new\nline", "quote'\"s", "\xff\xfe", "-dash",
                           "back\\slash", "caf\xc3\xa9"}) {
    MakeFileAt(names, name, std::string("named ") + name + "\n");
  }
  MakeFileAt(names, std::string(255, 'n'), "a 255-byte name\n");
  close(names);
}

// deep/ + 20 directories of 220 bytes: paths of about 4.5 KiB below the top. At the bottom: a
// file (with an xattr when the filesystem takes them), a second name for it, a symlink, and a
// 0500 directory; a third name of the file sits at the top, so a short hardlink points deep.
std::string BuildDeep(int top, const std::string& top_name, bool xattrs) {
  std::string rel = top_name + "/deep";
  int dir = MakeDirAt(top, "deep");
  for (int i = 0; i < 20; ++i) {
    std::string name = std::to_string(i) + "_" + std::string(217, static_cast<char>('a' + i));
    int next = MakeDirAt(dir, name);
    close(dir);
    dir = next;
    rel += "/" + name;
  }
  MakeFileAt(dir, "file", "at the end of a very long path\n");
  if (xattrs) {
    int fd = openat(dir, "file", O_RDONLY | O_CLOEXEC);
    ExpectCallOk(fsetxattr(fd, "user.deep", "down here", 9, 0), "setxattr on the deep file");
    close(fd);
  }
  ExpectCallOk(linkat(dir, "file", dir, "file_again", 0), "link deep file_again");
  ExpectCallOk(linkat(dir, "file", top, "far_link", 0), "link far_link");
  ExpectCallOk(symlinkat("file", dir, "link"), "symlink deep link");
  // A sparse file under a path no ustar name holds (libarchive 3.6 would name it by the
  // truncated ustar name: entry_marks.h).
  int sparse = openat(dir, "sparse_far", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  ExpectCallOk(sparse >= 0 ? 0 : -1, "creating deep sparse_far");
  WriteAllAt(sparse, PseudoRandom(4096, 5), kMiB, "sparse_far");
  ExpectCallOk(ftruncate(sparse, 4 * kMiB), "truncating deep sparse_far");
  close(sparse);
  close(MakeDirAt(dir, "sub", 0500));
  close(dir);
  return rel + "/file";
}

}  // namespace

void BuildCorners(int top, const std::string& top_path, const std::string& top_name,
                  Corners* corners) {
  BuildLinks(top);
  corners->xattrs = BuildXattrs(top, &corners->notes);
  corners->acls = BuildAcls(top, top_path, &corners->notes);
  BuildNames(top);
  corners->deep_file = BuildDeep(top, top_name, corners->xattrs);
}

}  // namespace xfer::testing
