// BuildTestTree: one directory tree holding every kind of entry a transfer must carry intact.
//
// Regular files (empty, small, 3 MiB of mixed content), sparse files (holes at the start, in
// the middle and at the end; and one that is all hole), empty and nested directories, symlinks
// (relative, absolute, dangling), a group of three hardlinks, a fifo, character and block
// devices, setuid/setgid/sticky and 0000 modes, owners other than root, nanosecond mtimes on
// everything (directories and symlinks too), user xattrs with binary values, POSIX access and
// default ACLs, names with spaces, tabs, newlines, quotes and non-UTF-8 bytes, a 255-byte name,
// and a path longer than 4 KiB (the links, xattrs, ACLs, names and long path: tree_corners.h).
// Needs root (devices, owners).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tree_entries.h"  // PseudoRandom

namespace xfer::testing {

struct TestTree {
  std::string root;                // absolute path of the tree's top directory
  std::string deep_file;           // path of the > 4 KiB file, relative to root's parent
  std::string sparse_file;         // path of the 64 MiB sparse file, relative to root's parent
  bool xattrs = false;             // user xattrs were set (the filesystem takes them)
  bool acls = false;               // ACLs were set (setfacl worked)
  bool sparse = false;             // the filesystem keeps holes
  std::vector<std::string> notes;  // what could not be built here, and why
};

// Builds parent/name (parent must exist; name must not). Reports unexpected failures with
// ADD_FAILURE; a case the filesystem cannot hold (xattrs, ACLs, holes) is left out and noted.
void BuildTestTree(const std::string& parent, const std::string& name, TestTree* tree);

// Sets the mtime (and atime) of every entry under and including root, distinct per entry and
// with nanoseconds, without following symlinks. Done last, since creating an entry changes its
// directory's mtime. Exposed for tests that add entries to a built tree.
void StampTimes(const std::string& root);

}  // namespace xfer::testing
