// CompareTrees: everything that differs between two directory trees, entry by entry.
//
// Compares the roots and everything below them (names are bytes; paths of any length): type,
// mode (all 12 bits), owner, mtime to the nanosecond (directories and symlinks too), size and
// content, symlink target, device numbers, user.* xattrs, POSIX ACLs (the
// system.posix_acl_access/default values), hardlink groups, and holes: a regular file of the
// second tree may not occupy much more disk than the one of the first (a copy that filled the
// holes of a sparse file fails).
//
// Usage: EXPECT_THAT(CompareTrees(source, copy), ::testing::IsEmpty()), or print the list.
#pragma once

#include <string>
#include <vector>

namespace xfer::testing {

struct CompareOptions {
  // How many bytes more than the first tree's a file of the second may occupy on disk.
  long long allocation_slack = 256 * 1024;
};

// Each difference is one readable line: "top/dir/file: mode 0644 != 0600". Non-printable bytes
// in names are escaped.
std::vector<std::string> CompareTrees(const std::string& a, const std::string& b,
                                      const CompareOptions& options = {});

// The differences, one indented line each, for a failure message.
std::string DescribeDiffs(const std::vector<std::string>& diffs);

}  // namespace xfer::testing
