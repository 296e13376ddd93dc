// BuildCorners: the awkward entries every tree a test moves should carry, a few KiB in all.
//
// Symlinks (relative, absolute, dangling) and a group of three hardlinks; user xattrs with
// binary values; POSIX access and default ACLs (and entries that inherit them); names with
// spaces, tabs, newlines, quotes and non-UTF-8 bytes, and a 255-byte name; and paths longer
// than 4 KiB holding a file with an xattr, hardlinks to it (one from the top), a symlink, a
// sparse file and a 0500 directory. Shared by the round-trip tree (tree_builder.h) and the
// fault suite's (tests/faults/fault_source.h).
#pragma once

#include <string>
#include <vector>

namespace xfer::testing {

struct Corners {
  std::string deep_file;           // path of the > 4 KiB file, relative to the top's parent
  bool xattrs = false;             // user xattrs were set (the filesystem takes them)
  bool acls = false;               // ACLs were set (setfacl worked)
  std::vector<std::string> notes;  // what could not be built here, and why
};

// Adds links/, hard/, xattr/, acl/, names/, deep/ and far_link to the directory top (open as a
// descriptor; top_path is its absolute path, top_name its last component). Reports unexpected
// failures with ADD_FAILURE; xattrs or ACLs the filesystem does not take are left out and noted.
void BuildCorners(int top, const std::string& top_path, const std::string& top_name,
                  Corners* corners);

}  // namespace xfer::testing
