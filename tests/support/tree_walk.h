// Walking a tree through descriptors, so that paths of any length work: WalkPostOrder visits
// every entry, OpenBelow opens one by its path relative to a directory.
#pragma once

#include <functional>
#include <string>

namespace xfer::testing {

// Calls visit(parent_fd, name, path) for every entry below dir_fd (path: relative to dir_fd), in
// name order, each directory's entries before the directory itself; symlinks are not followed.
// Reports a directory it cannot open with ADD_FAILURE.
using WalkVisitor = std::function<void(int parent_fd, const char* name, const std::string& path)>;
void WalkPostOrder(int dir_fd, const WalkVisitor& visit);

// Opens dir_fd/path (path relative, of any length) one component at a time, following no
// symlink; returns the descriptor (the caller closes it), or -1 with errno set.
int OpenBelow(int dir_fd, const std::string& path, int flags);

}  // namespace xfer::testing
