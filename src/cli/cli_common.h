// What xfer-send and xfer-recv share: exit codes, error lines, signals, size and progress output.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <string_view>

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

// SIGINT, SIGTERM and SIGHUP cancel the token (the transfer then fails cleanly and cleans up).
void CancelOnSignals(CancelToken* token);

// Adds the options both programs take for timeouts, threads, progress and logging.
struct CommonFlags {
  int64_t timeout_s = 300;
  int64_t idle_timeout_s = 60;
  int threads = 0;
  bool progress = false;
  bool verbose = false;
};
void AddCommonFlags(CLI::App* app, CommonFlags* flags);

// A progress line on stderr, redrawn in place on a terminal.
ProgressCallback StderrProgress(std::string_view program);
// Log lines on stderr, "PROGRAM: LINE".
LogCallback StderrLog(std::string_view program);

// Parses "1048576", "512K", "4M", "1G" (powers of 1024).
bool ParseSize(const std::string& text, uint64_t* out);

// Prints the version line for --version.
std::string VersionLine(std::string_view program);

}  // namespace xfer::cli
