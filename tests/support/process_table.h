// The machine's processes as /proc shows them, read the way a test that races their exits needs:
// a process that ends while it is being read simply drops out (reading its /proc files then fails
// with ESRCH, which an ifstream would throw as an exception).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace xfer::testing {

// The command line of pid, its words NUL-separated as the kernel keeps them; "" once it is gone.
std::string CommandLineOf(pid_t pid);

// Every process but this one whose command line, its words joined by spaces, contains needle.
std::vector<pid_t> ProcessesMentioning(const std::string& needle);

}  // namespace xfer::testing
