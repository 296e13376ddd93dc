#include "adaptive_level.h"

#include <gtest/gtest.h>

namespace xfer {
namespace {

using Clock = AdaptiveLevel::Clock;

// Feeds one window of observations with the given queue state and raw throughput (bytes/s).
void Window(AdaptiveLevel* level, size_t ready, double rate, Clock::time_point* now,
            uint64_t* sent) {
  for (int i = 0; i < AdaptiveLevel::kWindow; ++i) {
    level->Observe(ready, 8, *sent, *now);
    *now += std::chrono::milliseconds(10);
    *sent += static_cast<uint64_t>(rate / 100);
  }
}

TEST(AdaptiveLevel, FixedLevelNeverMoves) {
  AdaptiveLevel level(7);
  Clock::time_point now{};
  uint64_t sent = 0;
  for (int i = 0; i < 10; ++i) Window(&level, 0, 1e9, &now, &sent);
  EXPECT_EQ(level.Current(), 7);
}

TEST(AdaptiveLevel, DryQueueDropsToStoringRaw) {
  AdaptiveLevel level(0);
  EXPECT_EQ(level.Current(), 1);
  Clock::time_point now{};
  uint64_t sent = 0;
  for (int i = 0; i < AdaptiveLevel::kLadderSize; ++i) Window(&level, 0, 1e9, &now, &sent);
  EXPECT_EQ(level.Current(), 0);
}

TEST(AdaptiveLevel, FullQueueClimbsWhileThroughputImproves) {
  AdaptiveLevel level(0);
  Clock::time_point now{};
  uint64_t sent = 0;
  double rate = 1e8;
  for (int i = 0; i < AdaptiveLevel::kLadderSize; ++i) {
    Window(&level, 8, rate, &now, &sent);
    rate *= 1.5;  // each level squeezes more through the slow link
  }
  EXPECT_EQ(level.Current(), AdaptiveLevel::kLadder[AdaptiveLevel::kLadderSize - 1]);
}

TEST(AdaptiveLevel, StepsBackWhenAClimbHurtsThroughput) {
  AdaptiveLevel level(0);
  Clock::time_point now{};
  uint64_t sent = 0;
  Window(&level, 8, 1e9, &now, &sent);  // full: climbs from 1 to 3
  EXPECT_EQ(level.Current(), 3);
  Window(&level, 8, 5e8, &now, &sent);  // slower at 3 (e.g. the receiver shares our cores)
  EXPECT_EQ(level.Current(), 1);
  for (int i = 0; i < AdaptiveLevel::kRestWindows - 1; ++i) {
    Window(&level, 8, 1e9, &now, &sent);
    EXPECT_EQ(level.Current(), 1) << "rests before probing again";
  }
}

}  // namespace
}  // namespace xfer
