// AdaptiveLevel: the zstd level for the next chunks, chosen from the send queue and throughput.
//
// The network thread reports, before taking each chunk, how many compressed chunks were waiting
// for it, and how many raw bytes it has sent. Every window of chunks:
// - the queue ran dry (the network thread waited for chunks): the CPU is the bottleneck, so the
//   level drops, down to storing chunks raw;
// - the queue stayed full (chunks waited for the socket): downstream is the bottleneck. The next
//   level up is tried if it has not been lately; otherwise the level goes to whichever level has
//   shown the best raw throughput (a smoothed figure per level, since single windows are noisy;
//   the lower level wins ties within 5%). So it climbs on a slow link and settles low when the
//   receiver shares this host's cores. Every kRetryWindows the estimate above is forgotten, so
//   a change in the data or the link is noticed.
// (zstd's own --adapt stalls with several workers; one decision per window on our queue does not.)
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace xfer {

class AdaptiveLevel {
 public:
  using Clock = std::chrono::steady_clock;

  // Level 0 means "store raw". Negative levels are zstd's fast modes.
  static constexpr int kLadder[] = {0, -5, -1, 1, 3, 6};
  static constexpr int kLadderSize = sizeof kLadder / sizeof kLadder[0];
  static constexpr int kWindow = 16;        // chunks per decision
  static constexpr int kRetryWindows = 16;  // windows before the level above is tried again

  // fixed_level != 0 pins the level (1 to 19) and disables adaptation; 0 adapts along kLadder,
  // starting at level 1.
  explicit AdaptiveLevel(int fixed_level) : fixed_(fixed_level != 0) {
    level_.store(fixed_ ? fixed_level : kLadder[kStart]);
  }

  // The level for the next chunk; any thread.
  int Current() const { return level_.load(std::memory_order_relaxed); }

  // Network thread, before taking each chunk: processed chunks waiting, the queue's capacity, and
  // raw bytes sent so far.
  void Observe(size_t ready, size_t capacity, uint64_t raw_bytes_sent, Clock::time_point now) {
    if (fixed_) return;
    if (seen_ == 0) {
      window_start_ = now;
      window_bytes_ = raw_bytes_sent;
    }
    if (ready == 0) ++dry_;
    if (ready >= std::max<size_t>(2, capacity / 2)) ++full_;
    if (++seen_ < kWindow) return;
    double seconds = std::chrono::duration<double>(now - window_start_).count();
    double rate = seconds > 0 ? (raw_bytes_sent - window_bytes_) / seconds : 0;
    Decide(rate);
    level_.store(kLadder[index_], std::memory_order_relaxed);
    seen_ = dry_ = full_ = 0;
  }

 private:
  static constexpr int kStart = 3;  // level 1

  void Decide(double rate) {
    double& mine = rate_[index_];
    mine = mine == 0 ? rate : 0.7 * mine + 0.3 * rate;
    if (++windows_here_ % kRetryWindows == 0 && index_ + 1 < kLadderSize) rate_[index_ + 1] = 0;
    int before = index_;
    if (dry_ >= kWindow / 2) {
      index_ = std::max(index_ - 1, 0);
    } else if (full_ >= kWindow * 3 / 4) {
      if (index_ + 1 < kLadderSize && rate_[index_ + 1] == 0) {
        ++index_;
      } else {
        index_ = BestTried();
      }
    }
    if (index_ != before) windows_here_ = 0;
  }

  int BestTried() const {
    int best = index_;
    for (int i = 0; i < kLadderSize; ++i) {
      bool better = i < best ? rate_[i] * 1.05 >= rate_[best] : rate_[i] > rate_[best] * 1.05;
      if (rate_[i] > 0 && better) best = i;
    }
    return best;
  }

  const bool fixed_;
  std::atomic<int> level_{0};
  int index_ = kStart;
  double rate_[kLadderSize] = {};  // smoothed raw bytes/s seen at each level; 0: not tried yet
  int windows_here_ = 0;
  int seen_ = 0;
  int dry_ = 0;
  int full_ = 0;
  Clock::time_point window_start_;
  uint64_t window_bytes_ = 0;
};

}  // namespace xfer
