// Deadline: a point in steady time after which a blocking wait gives up.
#pragma once

#include <algorithm>
#include <chrono>

namespace xfer {

using Clock = std::chrono::steady_clock;

class Deadline {
 public:
  static Deadline After(std::chrono::milliseconds d) { return Deadline(Clock::now() + d); }
  static Deadline Never() { return Deadline(Clock::time_point::max()); }
  static Deadline At(Clock::time_point at) { return Deadline(at); }

  bool Expired() const { return Clock::now() >= at_; }
  Clock::time_point at() const { return at_; }
  // Milliseconds left for poll(): -1 for never, 0 when expired, capped to fit an int.
  int PollTimeoutMs() const {
    if (at_ == Clock::time_point::max()) return -1;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(at_ - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left + 1, 0, 24 * 3600 * 1000));
  }
  Deadline Earlier(Deadline other) const { return at_ < other.at_ ? *this : other; }

 private:
  explicit Deadline(Clock::time_point at) : at_(at) {}
  Clock::time_point at_;
};

}  // namespace xfer
