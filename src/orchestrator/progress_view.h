// ProgressView: what `xfer` shows while it runs. On a terminal, one live line per target
// (bytes, percent, rate, ETA, compression ratio), redrawn in place on stderr; with --json,
// JSON-lines events on stdout (start, progress each second, each target's result, a summary);
// otherwise nothing until the results, so logs stay quiet.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "preflight.h"
#include "xfer/status.h"

namespace xfer::orchestrator {

struct TargetState {
  std::string label;  // HOST:DIR
  uint64_t bytes = 0;
  uint64_t total_bytes = 0;
  uint64_t wire_bytes = 0;
  uint64_t resumed_bytes = 0;  // held from an interrupted transfer, not sent again
  double seconds = 0;          // the receiver's own clock, since it accepted the sender
  bool finished = false;
  bool ok = false;
  std::string error;
  // A failed target that kept what it received for the same command run again (kept_bytes 0:
  // nothing kept); a target that started over, what it discarded of an interrupted transfer.
  uint64_t kept_bytes = 0;
  uint64_t discarded_bytes = 0;
  // In a chain: the failed hops (labels) it was fed around in a further pass, resuming what it
  // held; "" when the first pass fed it.
  std::string relinked_around;
};

class ProgressView {
 public:
  enum class Mode { kTerminal, kJson, kQuiet };

  explicit ProgressView(Mode mode) : mode_(mode) {}

  void Start(const std::string& source_label, const SourceFacts& facts,
             const std::vector<TargetState>& targets, const std::string& fanout);
  // Once a second while the transfer runs.
  void Tick(const std::vector<TargetState>& targets);
  void Result(const TargetState& target);
  // A step around the transfer (--type mariabackup's stop_replica, start_replica, prepare) and
  // how it ended, on `where` (HOST:PATH): with --json an event {"event":STEP,"where":...,"ok":...,
  // "seconds":...[,"error":...]}; elsewhere nothing (the summary and errors tell).
  void StepResult(const std::string& step, const std::string& where, const Status& status,
                  double seconds);
  // The closing lines; returns how many targets verified.
  size_t Summary(const std::vector<TargetState>& targets, double seconds);

 private:
  void Erase();

  Mode mode_;
  size_t lines_drawn_ = 0;
};

}  // namespace xfer::orchestrator
