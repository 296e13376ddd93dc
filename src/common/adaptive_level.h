// AdaptiveLevel: the zstd level for the next chunks, chosen by what each level delivers.
//
// The network thread reports, before taking each chunk, the state of the queue between the
// compression workers and itself, the raw bytes it has sent so far and the time.
// - When it finds no chunk ready while chunks wait for a free worker, in half a window of
//   kWindow chunks, compression is the bottleneck: the level drops one step at once, down to
//   storing chunks raw. (No chunk ready and none waiting means the reader is the bottleneck,
//   which no level changes.)
// - When chunks waited for the socket in 3/4 of a window, something downstream is the bottleneck.
//   A slow link wants more compression; a receiver short of CPU (or one sharing our cores) wants
//   less; the queue looks the same in both cases. So the level tries a step, towards the last
//   step that paid first, and the next window's raw throughput decides: kept if it beats the
//   window before by kGain; one more step the same way if it came out even (zstd's fast levels
//   gain little on some data, level 1 much more); otherwise back to where the try started, and
//   that direction waits twice as long before its next try (up to kMaxHold windows). So a level
//   the link or the receiver does not want costs one window now and then, not half the time.
// - Otherwise the level stays.
// After a change, the chunks already compressed at the old level leave first (one queue's worth)
// before a window is measured.
// Levels above 1 were measured not to pay: on a cold MariaDB datadir over 1 Gbit/s, 1 MiB chunks
// at level 3 came out smaller by nothing (ratio 2.41 against 2.57) and cost more CPU; level 6
// compressed five times slower.
// When the receiver runs on this same host there is no network to save: compression would only
// take CPU from the receiver, so chunks are stored raw. (zstd's own --adapt stalls with several
// workers; one decision per window on our queue does not.)
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
  static constexpr int kLadder[] = {0, -5, -1, 1};
  static constexpr int kLadderSize = sizeof kLadder / sizeof kLadder[0];
  static constexpr int kWindow = 16;   // chunks per decision
  static constexpr int kMaxHold = 64;  // windows: a failed try costs a window per GiB at most
  static constexpr double kGain = 0.03;

  // What the network thread sees before taking a chunk.
  struct Sample {
    size_t ready;         // compressed chunks waiting for the network thread
    size_t unstarted;     // chunks waiting for a compression worker
    size_t capacity;      // the most chunks the queue holds
    uint64_t sent_bytes;  // raw bytes sent so far
    Clock::time_point now;
  };

  // fixed_level != 0 pins the level (1 to 19) and disables adaptation; 0 adapts along kLadder,
  // starting at its top, or stays at "store" when the peer is on this host.
  AdaptiveLevel(int fixed_level, bool peer_is_local)
      : fixed_(fixed_level != 0 || peer_is_local), index_(peer_is_local ? 0 : kLadderSize - 1) {
    level_.store(fixed_level != 0 ? fixed_level : kLadder[index_]);
  }

  // The level for the next chunk; any thread.
  int Current() const { return level_.load(std::memory_order_relaxed); }

  // Network thread, before taking each chunk.
  void Observe(const Sample& sample) {
    if (fixed_) return;
    if (settle_ > 0) {
      --settle_;
      return;
    }
    if (seen_ == kWindow) {  // kWindow chunks were sent since the window started
      std::chrono::duration<double> elapsed = sample.now - window_start_;
      double sent = static_cast<double>(sample.sent_bytes - window_bytes_);
      Decide(elapsed.count() > 0 ? sent / elapsed.count() : 0, sample.capacity);
      seen_ = dry_ = full_ = 0;
      if (settle_ > 0) return;
    }
    if (seen_ == 0) {
      window_bytes_ = sample.sent_bytes;
      window_start_ = sample.now;
    }
    ++seen_;
    if (sample.ready >= std::max<size_t>(2, sample.capacity / 2)) ++full_;
    if (sample.ready == 0 && sample.unstarted > 0 && ++dry_ == kWindow / 2 && index_ > 0) {
      // Compression cannot keep up: a lower level is faster to produce, no need to measure. A
      // step up being tried has failed; a step down being tried was right.
      if (probe_ != kNone) EndProbe(probe_ == kDown);
      MoveTo(index_ - 1, sample.capacity);
      seen_ = dry_ = full_ = 0;
    }
  }

 private:
  enum Direction { kDown = 0, kUp = 1, kNone = 2 };

  void Decide(double rate, size_t capacity) {
    for (int& hold : hold_) hold = std::max(0, hold - 1);
    if (probe_ != kNone) {
      if (rate > base_rate_ * (1 + kGain)) {
        EndProbe(true);
      } else if (rate >= base_rate_ * (1 - kGain) && CanStep(probe_)) {
        MoveTo(Neighbour(probe_), capacity);  // even: judge the next level the same way
      } else {
        EndProbe(false);
        MoveTo(probe_from_, capacity);
      }
      return;
    }
    if (full_ < kWindow * 3 / 4) return;
    Direction other = preferred_ == kUp ? kDown : kUp;
    for (Direction direction : {preferred_, other}) {
      if (hold_[direction] == 0 && CanStep(direction)) {
        probe_ = direction;
        probe_from_ = index_;
        base_rate_ = rate;
        MoveTo(Neighbour(direction), capacity);
        return;
      }
    }
  }

  void EndProbe(bool paid) {
    if (paid) {
      backoff_[probe_] = 1;
      preferred_ = probe_;
    } else {
      hold_[probe_] = backoff_[probe_];
      backoff_[probe_] = std::min(backoff_[probe_] * 2, kMaxHold);
    }
    probe_ = kNone;
  }

  bool CanStep(Direction direction) const {
    return direction == kUp ? index_ + 1 < kLadderSize : index_ > 0;
  }
  int Neighbour(Direction direction) const { return index_ + (direction == kUp ? 1 : -1); }

  void MoveTo(int index, size_t capacity) {
    index_ = index;
    level_.store(kLadder[index_], std::memory_order_relaxed);
    settle_ = capacity;
  }

  const bool fixed_;
  std::atomic<int> level_{0};
  int index_;
  Direction probe_ = kNone;    // the direction being tried
  int probe_from_ = 0;         // where the try started
  Direction preferred_ = kUp;  // the direction tried first: the last one that paid
  double base_rate_ = 0;       // raw bytes/s of the window before the try
  int hold_[2] = {0, 0};       // windows before the next try, per direction
  int backoff_[2] = {1, 1};    // the hold the next failed try sets, per direction
  size_t settle_ = 0;          // chunks compressed at the previous level still to pass
  int seen_ = 0;
  int dry_ = 0;
  int full_ = 0;
  uint64_t window_bytes_ = 0;
  Clock::time_point window_start_;
};

}  // namespace xfer
