// AdaptiveLevel: the zstd level for the next chunks, chosen from the send queue and throughput.
//
// The network thread reports, before taking each chunk, how many compressed chunks were waiting
// for it, and how many raw bytes it has sent. Every window of chunks:
// - the queue ran dry (the network thread waited for chunks): the CPU is the bottleneck, so the
//   level drops, down to storing chunks raw;
// - the queue stayed full (chunks waited for the socket): downstream is the bottleneck, so the
//   level climbs while raw throughput improves, and steps back (and rests a while) when a climb
//   made it worse, e.g. when the receiver shares this host's cores.
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
  static constexpr int kWindow = 16;   // chunks per decision
  static constexpr int kRestWindows = 8;  // after a climb that hurt

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
    bool climbed = last_step_ > 0;
    last_step_ = 0;
    if (rest_ > 0) --rest_;
    if (dry_ >= kWindow / 2) {
      Step(-1);
    } else if (full_ >= kWindow * 3 / 4) {
      if (climbed && rate < previous_rate_ * 0.97) {
        Step(-1);
        rest_ = kRestWindows;
      } else if (rest_ == 0) {
        Step(+1);
      }
    }
    previous_rate_ = rate;
  }

  void Step(int direction) {
    int next = std::clamp(index_ + direction, 0, kLadderSize - 1);
    last_step_ = next - index_;
    index_ = next;
  }

  const bool fixed_;
  std::atomic<int> level_{0};
  int index_ = kStart;
  int last_step_ = 0;
  int rest_ = 0;
  int seen_ = 0;
  int dry_ = 0;
  int full_ = 0;
  Clock::time_point window_start_;
  uint64_t window_bytes_ = 0;
  double previous_rate_ = 0;
};

}  // namespace xfer
