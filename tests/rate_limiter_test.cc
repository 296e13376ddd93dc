// The token bucket behind --limit-rate, driven by made-up instants: exact credit arithmetic, the
// long-run average, and the bound on any window.
#include "rate_limiter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <random>
#include <utility>

namespace xfer {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using TimePoint = RateLimiter::TimePoint;

const TimePoint kStart = TimePoint() + std::chrono::hours(1);
constexpr uint64_t kMiB = 1 << 20;

TEST(RateLimiterTest, StartsWithOneBurstOfCredit) {
  RateLimiter limiter(1000, 500, kStart);
  EXPECT_EQ(limiter.Available(kStart), 500);
  EXPECT_EQ(limiter.Delay(kStart), nanoseconds(0));
}

TEST(RateLimiterTest, ChargingBeyondTheCreditWaitsExactlyForTheDebt) {
  RateLimiter limiter(1000, 500, kStart);
  limiter.Charge(300, kStart);
  EXPECT_EQ(limiter.Available(kStart), 200);
  EXPECT_EQ(limiter.Delay(kStart), nanoseconds(0));
  limiter.Charge(500, kStart);  // 300 bytes in debt at 1000 bytes/s
  EXPECT_EQ(limiter.Available(kStart), -300);
  EXPECT_EQ(limiter.Delay(kStart), milliseconds(300));
  EXPECT_EQ(limiter.Delay(kStart + milliseconds(100)), milliseconds(200));
  EXPECT_EQ(limiter.Delay(kStart + milliseconds(300)), nanoseconds(0));
  EXPECT_EQ(limiter.Available(kStart + milliseconds(300)), 0);
}

TEST(RateLimiterTest, RefillsAtTheRateUpToTheBurst) {
  RateLimiter limiter(1000, 500, kStart);
  limiter.Charge(500, kStart);
  EXPECT_EQ(limiter.Available(kStart + milliseconds(1)), 1);
  EXPECT_EQ(limiter.Available(kStart + milliseconds(250)), 250);
  EXPECT_EQ(limiter.Available(kStart + seconds(10)), 500);
}

TEST(RateLimiterTest, KeepsFractionsOfABytePerNanosecond) {
  // 3 bytes/s: a byte takes 333,333,333.3 ns, so three of them take exactly one second.
  RateLimiter limiter(3, 0, kStart);
  limiter.Charge(1, kStart);
  EXPECT_EQ(limiter.Delay(kStart), nanoseconds(333'333'334));  // rounded up: never early
  EXPECT_EQ(limiter.Delay(kStart + nanoseconds(333'333'333)), nanoseconds(1));
  limiter.Charge(2, kStart + nanoseconds(333'333'333));
  // The third of a nanosecond earned above is kept: the three bytes are paid at exactly 1 s.
  EXPECT_EQ(limiter.Delay(kStart + nanoseconds(333'333'333)), nanoseconds(666'666'667));
  EXPECT_EQ(limiter.Delay(kStart + seconds(1) - nanoseconds(1)), nanoseconds(1));
  EXPECT_EQ(limiter.Delay(kStart + seconds(1)), nanoseconds(0));
  EXPECT_EQ(limiter.Available(kStart + seconds(1)), 0);
}

TEST(RateLimiterTest, GivingBackCreditStopsAtTheBurst) {
  RateLimiter limiter(1000, 500, kStart);
  limiter.Charge(400, kStart);
  limiter.Charge(-100, kStart);  // a frame took fewer bytes than charged
  EXPECT_EQ(limiter.Available(kStart), 200);
  limiter.Charge(-1000, kStart);
  EXPECT_EQ(limiter.Available(kStart), 500);
}

TEST(RateLimiterTest, AnEarlierInstantEarnsNothing) {
  RateLimiter limiter(1000, 500, kStart);
  limiter.Charge(800, kStart + seconds(1));
  EXPECT_EQ(limiter.Available(kStart), -300);
  EXPECT_EQ(limiter.Delay(kStart), milliseconds(300));
}

TEST(RateLimiterTest, LongIdleTimeAtAHugeRateDoesNotOverflow) {
  uint64_t rate = uint64_t{1} << 50;  // 1 PiB/s
  RateLimiter limiter(rate, rate / 10, kStart);
  limiter.Charge(static_cast<int64_t>(rate), kStart);
  EXPECT_EQ(limiter.Available(kStart + std::chrono::hours(24 * 365 * 100)),
            static_cast<int64_t>(rate / 10));
}

// A sender as the pipeline drives it: charge a frame, wait until Delay() is zero, write it.
// Frames are 1 MiB plus a few bytes, or shorter (a compressed chunk); about every 25 s the
// sender stalls for up to 2 s (a slow disk, a full socket) and the bucket refills up to the burst.
struct Sent {
  TimePoint at;
  uint64_t bytes;
};

std::vector<Sent> Simulate(RateLimiter* limiter, seconds duration, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<uint64_t> frame_size(64 << 10, kMiB + 32);
  std::uniform_int_distribution<int> stall_ms(0, 2000);
  std::vector<Sent> sent;
  TimePoint now = kStart;
  while (now < kStart + duration) {
    if (random() % 5000 == 0) now += milliseconds(stall_ms(random));
    uint64_t bytes = frame_size(random);
    limiter->Charge(static_cast<int64_t>(bytes), now);
    now += limiter->Delay(now);
    EXPECT_EQ(limiter->Delay(now), nanoseconds(0));
    sent.push_back({now, bytes});
  }
  return sent;
}

TEST(RateLimiterTest, LongRunAverageIsTheRate) {
  const uint64_t rate = 100 * kMiB;
  RateLimiter limiter(rate, rate / 10, kStart);
  std::mt19937 random(7);
  std::uniform_int_distribution<uint64_t> frame_size(64 << 10, kMiB + 32);
  // Without stalls the sender is always ready, so after the first burst it goes exactly as
  // fast as the credit comes: rate x time, give or take the burst and one frame.
  TimePoint now = kStart;
  uint64_t total = 0;
  for (int i = 0; i < 200'000; ++i) {
    uint64_t bytes = frame_size(random);
    limiter.Charge(static_cast<int64_t>(bytes), now);
    now += limiter.Delay(now);
    total += bytes;
  }
  double elapsed = std::chrono::duration<double>(now - kStart).count();
  EXPECT_GT(elapsed, 900);  // ~1,000 s of simulated time
  double expected = rate * elapsed;
  EXPECT_LE(static_cast<double>(total), expected + rate / 10 + 1);
  EXPECT_GE(static_cast<double>(total), expected + rate / 10 - (kMiB + 32));
}

TEST(RateLimiterTest, NoTenSecondWindowExceedsRatePlusBurst) {
  const uint64_t rate = 100 * kMiB;
  const uint64_t burst = rate / 10;
  for (unsigned seed : {1u, 2u, 3u}) {
    RateLimiter limiter(rate, burst, kStart);
    std::vector<Sent> sent = Simulate(&limiter, seconds(300), seed);
    // Every window of 10 s that starts at a write holds the most writes a window can: sliding
    // its start later only loses that first write.
    const nanoseconds window = seconds(10);
    uint64_t worst = 0;
    uint64_t in_window = 0;
    size_t end = 0;
    for (size_t begin = 0; begin < sent.size(); ++begin) {
      while (end < sent.size() && sent[end].at < sent[begin].at + window) {
        in_window += sent[end++].bytes;
      }
      worst = std::max(worst, in_window);
      in_window -= sent[begin].bytes;
    }
    SCOPED_TRACE("seed " + std::to_string(seed));
    EXPECT_LE(worst, rate * 10 + burst);
    // The bound that --limit-rate promises: within 1% of the rate over any 10 s.
    EXPECT_LE(static_cast<double>(worst) / (rate * 10), 1.01);
    // And the simulation did press against it (the check above is not vacuous).
    EXPECT_GE(static_cast<double>(worst) / (rate * 10), 0.99);
  }
}

TEST(RateLimiterTest, AFrameLargerThanTheBurstOverrunsAWindowByAtMostItself) {
  // 1 MiB frames at 1 MiB/s with no burst: a frame whose wait ended at a window's start is
  // written there, and the credit earned during the window pays for the rest.
  const uint64_t rate = kMiB;
  RateLimiter limiter(rate, 0, kStart);
  TimePoint now = kStart;
  std::vector<TimePoint> writes;
  for (int i = 0; i < 100; ++i) {
    limiter.Charge(static_cast<int64_t>(kMiB), now);
    now += limiter.Delay(now);
    writes.push_back(now);
  }
  for (size_t i = 0; i + 11 < writes.size(); ++i) {
    // Writes 1 s apart: a closed 10 s window starting at one holds 11 of them, never 12.
    EXPECT_EQ(writes[i + 10] - writes[i], seconds(10));
    EXPECT_GT(writes[i + 11] - writes[i], seconds(10));
  }
}

}  // namespace
}  // namespace xfer
