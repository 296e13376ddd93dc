// RunCommand: runs a setup command (ip, ssh-keygen, ...) to completion for test fixtures, and
// turns a failure into one line that says which command failed and what it printed.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "xfer/status.h"

namespace xfer::testing {

// argv[0] must be an absolute path. OK when the command exited 0 within timeout; otherwise
// "COMMAND: exit N: FIRST LINE OF STDERR" (or "timed out after Ns").
Status RunCommand(const std::vector<std::string>& argv,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30));

// The words joined with spaces, for messages.
std::string JoinWords(const std::vector<std::string>& words);

}  // namespace xfer::testing
