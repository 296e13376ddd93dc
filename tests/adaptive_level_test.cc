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

TEST(AdaptiveLevel, SettlesOnTheLevelWithTheBestThroughput) {
  // The receiver shares our cores: beyond level 1, compressing harder only slows the transfer.
  auto rate_at = [](int level) { return level <= 1 ? 1e9 : 5e8; };
  AdaptiveLevel level(0);
  Clock::time_point now{};
  uint64_t sent = 0;
  for (int i = 0; i < 20; ++i) Window(&level, 8, rate_at(level.Current()), &now, &sent);
  EXPECT_LE(level.Current(), 1);
  EXPECT_NE(level.Current(), 0) << "store raw is no faster here and sends more";
}

}  // namespace
}  // namespace xfer
