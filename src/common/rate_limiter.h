// RateLimiter: the token bucket behind --limit-rate. It paces the sender's frames to `rate` wire
// bytes per second, so that a production host keeps serving while it copies.
//
// The bucket holds at most `burst` bytes of credit and refills at `rate` bytes per second. A frame
// is charged before it is written, which may leave the bucket in debt, and it is written once the
// debt is paid (Delay() is zero). Charging first is what makes frames of any size fit however
// small the burst is. What is written in any interval of length T is at most rate * T plus the
// burst or the first frame written in it, whichever is larger: every other byte was paid for by
// credit earned during T.
//
// Time is passed in (the steady clock in the sender, made-up instants in the tests), and credit is
// kept in byte-nanoseconds, so the arithmetic is exact: no rounding drifts over a long transfer.
#pragma once

#include <chrono>
#include <cstdint>

namespace xfer {

class RateLimiter {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // Starts full: a transfer may begin with one burst. rate must be > 0.
  RateLimiter(uint64_t rate, uint64_t burst, TimePoint now)
      : rate_(rate),
        burst_(static_cast<Units>(burst) * kNanosPerSecond),
        credit_(burst_),
        last_(now) {}

  // Takes bytes of credit (gives it back when negative, up to the burst), after crediting the
  // time since the last call. Instants earlier than one already seen count as that one.
  void Charge(int64_t bytes, TimePoint now) {
    Refill(now);
    credit_ -= static_cast<Units>(bytes) * kNanosPerSecond;
    if (credit_ > burst_) credit_ = burst_;
  }

  // How long until the debt is paid: zero when there is none.
  std::chrono::nanoseconds Delay(TimePoint now) {
    Refill(now);
    if (credit_ >= 0) return std::chrono::nanoseconds(0);
    Units debt = -credit_;
    return std::chrono::nanoseconds(static_cast<int64_t>((debt + rate_ - 1) / rate_));
  }

  // Whole bytes of credit at now; negative while in debt (rounded towards zero).
  int64_t Available(TimePoint now) {
    Refill(now);
    return static_cast<int64_t>(credit_ / kNanosPerSecond);
  }

  uint64_t rate() const { return static_cast<uint64_t>(rate_); }

 private:
  // Credit in byte-nanoseconds: a byte is worth 1e9 of them, and a nanosecond earns `rate`.
  // 128 bits hold a 16 EiB burst times 1e9 with room to spare.
  using Units = __int128;
  static constexpr Units kNanosPerSecond = 1'000'000'000;

  void Refill(TimePoint now) {
    if (now <= last_) return;
    Units elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(now - last_).count();
    last_ = now;
    // Compared before multiplying, so that a long idle time cannot overflow the product.
    Units room = burst_ - credit_;
    if (elapsed >= room / rate_ + 1) {
      credit_ = burst_;
    } else {
      credit_ += elapsed * rate_;
      if (credit_ > burst_) credit_ = burst_;
    }
  }

  Units rate_;
  Units burst_;
  Units credit_;
  TimePoint last_;
};

}  // namespace xfer
