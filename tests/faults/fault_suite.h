// FaultSuite: what every fault test shares, set up once per test binary: the settings (seed,
// points per kind), a scratch tmpfs, the source tree, where in the sender's stream faults may
// land (measured by clean runs), and the per-kind counts printed at the end.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fault_source.h"
#include "fault_stats.h"
#include "temp_dir.h"
#include "tmpfs_mount.h"

namespace xfer::testing {

// The --resume arguments of both programs, in every run (the faulted one keeps its staging
// directory and journal; the next one picks them up).
extern const std::vector<std::string> kResumeArgs;

// The proxy's socket buffers in every run: small, so that a sender cannot park much of its
// stream in them and a fault at byte R finds the sender near R.
constexpr int kProxyBufferBytes = 64 * 1024;

// How a run's stream is made: TLS or --no-encrypt; chunks stored raw (what the sender picks when
// the receiver is on its host) or zstd-compressed (--level 1, as over a slow network).
struct StreamConfig {
  bool plain = false;
  bool compressed = false;
};

// The span of the sender's stream where a fault is a transfer fault: from the first DATA byte
// (before it, the receiver treats a broken connection as a failed login and keeps waiting for
// another sender) to the end of the TRAILER (after it, the receiver has committed).
struct StreamShape {
  uint64_t first_data = 0;
  uint64_t data_end = 0;
  uint64_t total = 0;  // every byte the sender sent, TLS close_notify included
};

// The sender's rate (--limit-rate) in the runs that must last long enough for the receiver to
// journal what it holds (it does so about once a second, and when it fails): 6.5 MB in 2 s.
inline constexpr char kSlowRate[] = "3M";

class FaultSuite : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;

  bool ready() const { return ready_; }
  uint64_t seed() const { return seed_; }
  int points() const { return points_; }
  bool can_mount() const { return can_mount_; }
  // A fresh directory on the scratch filesystem for one run.
  std::string NewRunDir(const std::string& label);
  const std::string& source() const { return source_; }
  const SourceFootprint& footprint() const { return footprint_; }
  const StreamShape& shape(const StreamConfig& config) const { return shapes_[Index(config)]; }
  // The sender's arguments in every run: 64 KiB chunks, so a fault lands mid-file; resume; the
  // compression; with slow, kSlowRate.
  std::vector<std::string> SenderArgs(const StreamConfig& config, bool slow) const;

  void Record(const KindStats& stats) { stats_.push_back(stats); }

 private:
  static int Index(const StreamConfig& config) {
    return (config.plain ? 1 : 0) + (config.compressed ? 2 : 0);
  }
  StreamShape Calibrate(const StreamConfig& config);

  bool ready_ = false;
  uint64_t seed_ = 0;
  int points_ = 0;
  bool can_mount_ = false;
  std::unique_ptr<TempDir> root_;
  std::unique_ptr<TmpfsMount> scratch_;
  std::string work_;
  std::string source_;
  SourceFootprint footprint_;
  StreamShape shapes_[4];
  int runs_ = 0;
  std::vector<KindStats> stats_;
};

FaultSuite& Suite();

}  // namespace xfer::testing
