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

// Runs argv (argv[0] a full path) with stdin closed and collects its stdout in *out (if given).
// Fails when the command cannot start, exits non-zero or by a signal (the message names the command
// and carries its stderr on one line), or outlives the timeout (it is then killed).
Status RunCommand(const std::vector<std::string>& argv,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30),
                  std::string* out = nullptr);

// The words joined with spaces, for messages.
std::string JoinWords(const std::vector<std::string>& words);

}  // namespace xfer::cli
