// The sender's directory walk: every entry under the source paths, in stream order.
//
// Built on openat()/fstatat() relative to open directory descriptors, never chdir() (which would
// move the whole process) and never a full path (which stops at PATH_MAX), so any depth and any
// path length is walked. Symlinks are never followed, mount points are crossed (as tar does).
//
// Order: a directory comes before its children, and children come sorted by name (bytewise).
// Sorting costs one listing per directory in memory, and buys a stream that is the same on every
// run and every filesystem (readdir order is a hash order on ext4 and changes with the history
// of the directory), so manifests and archives of the same tree can be compared.
//
// Depth costs one open descriptor per level; a tree deeper than RLIMIT_NOFILE fails with EMFILE
// naming the directory.
#pragma once

#include <sys/stat.h>

#include <functional>
#include <string>
#include <vector>

#include "fs_util.h"
#include "xfer/cancel.h"
#include "xfer/status.h"

namespace xfer {

// A path given by the caller, split the way `tar -C parent name` would see it.
struct SourceTop {
  std::string given;   // as the caller wrote it, for messages
  std::string parent;  // the directory holding it ("." for a bare name)
  std::string name;    // its basename: the entry's name in the stream
};

// Splits each path into parent and basename; "." and ".." are resolved to a real name first.
// Fails with Code::kInvalidArgument for an empty list, "/", or two paths with the same basename.
Status ResolveSourceTops(const std::vector<std::string>& paths, std::vector<SourceTop>* out);

// One entry found by the walk. The references are valid only during the visit.
struct WalkEntry {
  int parent_fd;            // the directory that holds it
  const std::string& name;  // its name in parent_fd
  const std::string& path;  // its path in the stream: "db/ibdata1"
  const struct stat& st;    // lstat() of it; for directories, fstat() of self_fd
  int self_fd;              // directories only: the directory opened O_RDONLY, else -1
};

using WalkVisitor = std::function<Status(const WalkEntry&)>;

// Calls visit for every entry under every top, in stream order, and stops at the first failure
// (from visit, from the walk, or Code::kCancelled once cancel is set). Walk errors name the
// path: "/x/y: No such file or directory", "reading db/sub: Permission denied".
Status WalkSources(const std::vector<SourceTop>& tops, const CancelToken* cancel,
                   const WalkVisitor& visit);

// The walk's order on whole stream paths: true when a comes before b. Components compare
// bytewise and a directory comes before everything under it ("a" < "a/x" < "a.txt"), which is
// the order WalkSources visits a tree in; lists of paths (archive_source_list.h) are sorted by it.
bool StreamOrderLess(const std::string& a, const std::string& b);

// Opens the directory name in parent_fd, whose lstat was st, without following a symlink, and
// checks it is still that directory: *dir_st is then its fstat. Errors name it as shown:
// "shown was replaced while being read", "reading shown: Permission denied".
Status OpenWalkedDirectory(int parent_fd, const std::string& name, const struct stat& st,
                           const std::string& shown, UniqueFd* dir, struct stat* dir_st);

}  // namespace xfer
