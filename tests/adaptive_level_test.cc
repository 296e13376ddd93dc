#include "adaptive_level.h"

#include <gtest/gtest.h>

namespace xfer {
namespace {

void Window(AdaptiveLevel* level, size_t ready) {
  for (int i = 0; i < AdaptiveLevel::kWindow; ++i) level->Observe(ready, 8);
}

TEST(AdaptiveLevel, FixedLevelNeverMoves) {
  AdaptiveLevel level(7, false);
  for (int i = 0; i < 10; ++i) Window(&level, 0);
  EXPECT_EQ(level.Current(), 7);
}

TEST(AdaptiveLevel, StartsAtLevelOne) { EXPECT_EQ(AdaptiveLevel(0, false).Current(), 1); }

TEST(AdaptiveLevel, DryQueueDropsToStoringRaw) {
  AdaptiveLevel level(0, false);
  for (int i = 0; i < AdaptiveLevel::kLadderSize; ++i) Window(&level, 0);
  EXPECT_EQ(level.Current(), 0);
}

TEST(AdaptiveLevel, FullQueueClimbsToTheTopOfTheLadder) {
  AdaptiveLevel level(0, false);
  for (int i = 0; i < AdaptiveLevel::kLadderSize; ++i) Window(&level, 8);
  EXPECT_EQ(level.Current(), AdaptiveLevel::kLadder[AdaptiveLevel::kLadderSize - 1]);
}

TEST(AdaptiveLevel, WaitsLongerAfterEachClimbTheCpuCouldNotSustain) {
  AdaptiveLevel level(0, false);
  Window(&level, 0);  // dry at level 1: down to -1, hold 1 window
  EXPECT_EQ(level.Current(), -1);
  Window(&level, 8);  // full, but holding
  EXPECT_EQ(level.Current(), -1);
  Window(&level, 8);  // full: climbs
  EXPECT_EQ(level.Current(), 1);
  Window(&level, 0);  // dry again: down, now holding 2 windows
  EXPECT_EQ(level.Current(), -1);
  Window(&level, 8);
  Window(&level, 8);
  EXPECT_EQ(level.Current(), -1);
  Window(&level, 8);
  EXPECT_EQ(level.Current(), 1);
}

TEST(AdaptiveLevel, BalancedQueueKeepsTheLevel) {
  AdaptiveLevel level(0, false);
  for (int i = 0; i < 5; ++i) Window(&level, 1);
  EXPECT_EQ(level.Current(), 1);
}

TEST(AdaptiveLevel, LocalPeerStoresRaw) {
  AdaptiveLevel level(0, true);
  EXPECT_EQ(level.Current(), 0);
  for (int i = 0; i < 5; ++i) Window(&level, 8);
  EXPECT_EQ(level.Current(), 0) << "compressing for a receiver on this host only takes its CPU";
}

TEST(AdaptiveLevel, FixedLevelWinsOverLocalPeer) { EXPECT_EQ(AdaptiveLevel(3, true).Current(), 3); }

}  // namespace
}  // namespace xfer
