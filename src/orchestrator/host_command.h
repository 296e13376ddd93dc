// HostCommand: a system program (sh, mariadb-backup, the mariadb client) run on a host through
// Hosts, with its output collected. Several run at once and are awaited together, under one
// deadline; what went wrong comes back as one line.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "host_spec.h"
#include "process.h"
#include "remote.h"
#include "xfer/cancel.h"
#include "xfer/status.h"

namespace xfer::orchestrator {

struct HostCommand {
  std::string what;  // how messages name it: "mariadb-backup --prepare on db2"
  Status started;
  std::unique_ptr<cli::Process> process;
  std::vector<std::string> out;  // stdout lines
  std::vector<std::string> err;  // the last stderr lines (at most kKeptErrorLines)
};

constexpr size_t kKeptErrorLines = 50;

// Starts a command line built by Hosts (Command or SystemCommand), with its stdin closed, in a
// process group of its own (see StartOnHost).
HostCommand StartCommand(const std::vector<std::string>& argv, std::string what);

// Starts argv on host; argv[0] is run as given (a path, or a name looked up on that host's
// PATH, not in --bin-dir). Its stdin is closed. The process gets a group of its own, so that a
// Ctrl-C meant for `xfer` does not stop it halfway: a START REPLICA must still run after one.
HostCommand StartOnHost(Hosts* hosts, const HostPath& host, const std::vector<std::string>& argv,
                        std::string what);

// Waits until every command has exited, reading their output meanwhile (stderr lines are echoed
// when verbose). A command still running at the deadline, or once `cancel` is set (when given),
// gets SIGTERM, and SIGKILL a few seconds later.
void WaitForAll(std::vector<HostCommand>* commands, cli::Process::Clock::time_point deadline,
                const CancelToken* cancel, bool verbose);

// OK when it started and exited 0; otherwise one line: "WHAT: exited with status N: LINE", LINE
// being the stderr line that looks most like the reason (see TellingLine).
Status Outcome(const HostCommand& command);

// Of a program's stderr, the line most likely to say why it failed: the last one mentioning an
// error, a failure, a denial or something missing, else the last non-empty one; without
// mariadb-backup's "[00] 2026-01-01 12:00:00 " prefix. "" when there is none.
std::string TellingLine(const std::vector<std::string>& lines);

}  // namespace xfer::orchestrator
