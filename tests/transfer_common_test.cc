#include "transfer_common.h"

#include <gtest/gtest.h>

#include <thread>

namespace xfer {
namespace {

TEST(IdleCores, SubtractsTheLoadAndKeepsOne) {
  EXPECT_EQ(IdleCores(8, 0.0), 8);
  EXPECT_EQ(IdleCores(8, 2.4), 6);
  EXPECT_EQ(IdleCores(8, 2.6), 5);
  EXPECT_EQ(IdleCores(2, 5.0), 1);
  EXPECT_EQ(IdleCores(1, 0.0), 1);
}

TEST(ResolveThreads, ExplicitCountWins) { EXPECT_EQ(ResolveThreads(7), 7); }

TEST(ResolveThreads, DefaultIsBetweenOneAndTheCores) {
  int threads = ResolveThreads(0);
  EXPECT_GE(threads, 1);
  EXPECT_LE(threads, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace
}  // namespace xfer
