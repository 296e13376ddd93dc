// RunCommand: runs a system tool (nft, iptables) from an argv, without a shell, under a deadline.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "xfer/status.h"

namespace xfer::cli {

// The full path of the executable `name` in $PATH, or else in /usr/sbin or /sbin (where firewall
// tools live, and which a cron job's or a sudo user's PATH may lack); "" when there is none.
std::string FindProgram(const std::string& name);

// Runs argv (argv[0] a full path) with stdin from /dev/null and collects its stdout in *out. Fails
// when the command cannot start, exits non-zero or by a signal (the message names the command and
// carries its stderr on one line), or outlives the timeout (it is then killed).
Status RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                  std::string* out);

}  // namespace xfer::cli
