// WalkPostOrder: every entry below a directory, visited through descriptors (so paths of any
// length), children before their directory, symlinks not followed.
#pragma once

#include <functional>

namespace xfer::testing {

// Calls visit(parent_fd, name) for every entry below dir_fd, in name order, each directory's
// entries before the directory itself. Reports a directory it cannot open with ADD_FAILURE.
void WalkPostOrder(int dir_fd, const std::function<void(int parent_fd, const char* name)>& visit);

}  // namespace xfer::testing
