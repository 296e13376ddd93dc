// AdaptiveLevel: the zstd level for the next chunks, chosen from how full the send queue is.
//
// The network thread reports, before taking each chunk, how many compressed chunks were waiting
// for it. Every window of chunks:
// - the queue ran dry (the network thread waited for chunks) in half the window: the CPU is the
//   bottleneck, so the level drops, down to storing chunks raw;
// - chunks waited for the socket in 3/4 of the window: the network is the bottleneck, so the
//   CPU can afford a higher level, and each step up squeezes more data through the link, up to
//   level 1. Higher levels were measured not to pay: on a cold MariaDB datadir over 1 Gbit/s,
//   1 MiB chunks at level 3 came out smaller by nothing (ratio 2.41 against 2.57) and cost more
//   CPU; level 6 compressed five times slower.
// A climb that the CPU could not sustain (the queue ran dry right after) is not retried at once:
// the wait before the next climb doubles each time (up to kMaxHold windows), so the level does
// not oscillate between a level the network wants and one the CPU cannot feed; a climb that
// held for a window resets the wait.
// When the receiver runs on this same host there is no network to save: compression would only
// take CPU from the receiver, so chunks are stored raw. (zstd's own --adapt stalls with several
// workers; one decision per window on our queue does not.)
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>

namespace xfer {

class AdaptiveLevel {
 public:
  // Level 0 means "store raw". Negative levels are zstd's fast modes.
  static constexpr int kLadder[] = {0, -5, -1, 1};
  static constexpr int kLadderSize = sizeof kLadder / sizeof kLadder[0];
  static constexpr int kWindow = 16;   // chunks per decision
  static constexpr int kMaxHold = 8;  // windows

  // fixed_level != 0 pins the level (1 to 19) and disables adaptation; 0 adapts along kLadder,
  // starting at its top, or stays at "store" when the peer is on this host.
  AdaptiveLevel(int fixed_level, bool peer_is_local)
      : fixed_(fixed_level != 0 || peer_is_local), index_(peer_is_local ? 0 : kStart) {
    level_.store(fixed_level != 0 ? fixed_level : kLadder[index_]);
  }

  // The level for the next chunk; any thread.
  int Current() const { return level_.load(std::memory_order_relaxed); }

  // Network thread, before taking each chunk: processed chunks waiting, and the queue's capacity.
  void Observe(size_t ready, size_t capacity) {
    if (fixed_) return;
    if (ready == 0) ++dry_;
    if (ready >= std::max<size_t>(2, capacity / 2)) ++full_;
    if (++seen_ < kWindow) return;
    bool may_climb = hold_ == 0;
    if (hold_ > 0) --hold_;
    if (dry_ >= kWindow / 2) {
      climbed_ = false;
      if (index_ > 0) {
        --index_;
        hold_ = backoff_;
        backoff_ = std::min(backoff_ * 2, kMaxHold);
      }
    } else {
      if (climbed_) backoff_ = 1;
      climbed_ = full_ >= kWindow * 3 / 4 && may_climb && index_ + 1 < kLadderSize;
      if (climbed_) ++index_;
    }
    level_.store(kLadder[index_], std::memory_order_relaxed);
    seen_ = dry_ = full_ = 0;
  }

 private:
  static constexpr int kStart = kLadderSize - 1;

  const bool fixed_;
  std::atomic<int> level_{0};
  int index_;
  int hold_ = 0;     // windows before the next climb is allowed
  int backoff_ = 1;  // the hold set by the next step down
  bool climbed_ = false;  // the last window climbed
  int seen_ = 0;
  int dry_ = 0;
  int full_ = 0;
};

}  // namespace xfer
