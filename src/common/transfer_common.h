// Small pieces both ends of a transfer use: SIGPIPE handling, digests, progress pacing.
#pragma once

#include <signal.h>

#include <chrono>
#include <string>

#include "deadline.h"
#include "manifest.h"
#include "xfer/report.h"

namespace xfer {

// Blocks SIGPIPE on this thread for its lifetime, so a write to a vanished peer returns EPIPE
// instead of killing an embedding process; a SIGPIPE raised meanwhile is consumed before the old
// mask comes back.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock();
  ~ScopedSigpipeBlock();
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;

 private:
  sigset_t old_mask_;
};

std::string DigestHex(const Digest128& digest);

// Calls the progress callback at most once per interval.
class ProgressPacer {
 public:
  ProgressPacer(const ProgressCallback& callback, std::chrono::milliseconds interval)
      : callback_(callback), interval_(interval), start_(Clock::now()), next_(start_ + interval) {}
  void Tick(Progress progress) {
    if (Clock::now() >= next_) Report(progress);
  }
  // Reports now, whatever the interval: a milestone a watcher should not wait for.
  void Report(Progress progress) {
    if (!callback_) return;
    next_ = Clock::now() + interval_;
    progress.seconds = Seconds();
    callback_(progress);
  }
  double Seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  const ProgressCallback& callback_;
  std::chrono::milliseconds interval_;
  Clock::time_point start_;
  Clock::time_point next_;
};

// Number of worker threads: requested when > 0; else the idle cores (IdleCores of this host's
// cores and 1-minute load average), so a copy does not starve the database serving beside it.
int ResolveThreads(int requested);
// cores minus the load average (rounded), at least 1.
int IdleCores(int cores, double load_average);

}  // namespace xfer
