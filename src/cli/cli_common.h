// What xfer-send and xfer-recv share: exit codes, error lines, signals, size and progress output.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "xfer/cancel.h"
#include "xfer/report.h"
#include "xfer/status.h"

namespace xfer::cli {

// Exit statuses (documented in README and --help).
constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;  // the transfer failed; nothing new was committed
constexpr int kExitUsage = 2;   // bad command line

// Prints "PROGRAM: error: MESSAGE" on stderr and returns kExitFailed.
int ReportError(std::string_view program, const Status& status);
// The same, and with --json also {"event":"error","code":CODE,"error":MESSAGE} on stdout, CODE
// from ErrorCodeName: how `xfer` tells a host's own failure (no_space, io_error, ...) from one
// that came from its peer or the network (network, timeout, peer_failed, ...).
int ReportError(std::string_view program, const Status& status, bool json);
// The snake_case name of a status code ("no_space", "peer_failed").
const char* ErrorCodeName(Code code);

// SIGINT, SIGTERM and SIGHUP cancel the token (the transfer then fails cleanly and cleans up).
void CancelOnSignals(CancelToken* token);

// Adds the options both programs take for timeouts, threads, progress and logging.
struct CommonFlags {
  int64_t timeout_s = 300;
  int64_t idle_timeout_s = 60;
  int threads = 0;
  bool progress = false;
  bool json = false;
  bool lifeline = false;
  bool verbose = false;
};
// Also adds --version, which prints VersionLine(program).
void AddCommonFlags(CLI::App* app, std::string_view program, CommonFlags* flags);

// Parses argv; false when the program should exit now with *exit_code (--help, --version, or a
// usage error, which CLI11 has already printed).
bool ParseCommandLine(CLI::App* app, int argc, char** argv, int* exit_code);

// A progress line on stderr, redrawn in place on a terminal.
ProgressCallback StderrProgress(std::string_view program);
// One JSON line per report on stdout: {"event":"progress","bytes":..,"total_bytes":..,
// "wire_bytes":..,"entries":..,"seconds":..}; what `xfer` reads from the programs it starts.
ProgressCallback JsonProgress();
// Log lines on stderr, "PROGRAM: LINE"; kInfo lines only when verbose.
LogCallback StderrLog(std::string_view program, bool verbose);

// Reads the first line of stdin (a ticket), waiting at most `timeout` for it. Tickets travel
// this way, never in argv, where any user of the host could read them.
Status ReadTicketFromStdin(std::chrono::seconds timeout, std::string* line);

// --exec CMD and --shell, which both programs take (with their own help for --exec).
struct ExecFlags {
  std::string command;
  bool shell = false;
};
void AddExecFlags(CLI::App* app, const std::string& help, ExecFlags* flags);
// The argv to run (empty without --exec); false, with the error printed, for an empty command
// or unbalanced quotes.
bool ExecArgv(std::string_view program, const ExecFlags& flags, std::vector<std::string>* argv);

// Parses "1048576", "512K", "4M", "1G" (powers of 1024).
bool ParseSize(const std::string& text, uint64_t* out);

// Prints the version line for --version.
std::string VersionLine(std::string_view program);

// The line --preflight prints on success, for `xfer` to read: {"preflight":"ok","version":"0.1.0",
// "protocol":2,FIELDS}, where fields are JSON members without braces ("\"free_bytes\":123").
std::string PreflightJson(const std::string& fields);

// Sets what CommonFlags say on a SendOptions or ReceiveOptions, and wires up cancellation on
// signals, stderr logging and stderr progress.
template <typename Options>
void ApplyCommonFlags(const CommonFlags& flags, std::string_view program, CancelToken* cancel,
                      Options* options) {
  CancelOnSignals(cancel);
  options->cancel = cancel;
  options->threads = flags.threads;
  options->timeout = std::chrono::seconds(flags.timeout_s);
  options->idle_timeout = std::chrono::seconds(flags.idle_timeout_s);
  options->log = StderrLog(program, flags.verbose);
  if (flags.progress) options->progress = StderrProgress(program);
  if (flags.json) options->progress = JsonProgress();
}

}  // namespace xfer::cli
