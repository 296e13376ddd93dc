#include "adaptive_level.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>

namespace xfer {
namespace {

constexpr size_t kCapacity = 8;
constexpr uint64_t kChunk = 1 << 20;

// The network thread as AdaptiveLevel sees it, on a simulated clock: each chunk leaves at the
// rate the current level gets through the bottleneck.
class Pipeline {
 public:
  explicit Pipeline(AdaptiveLevel* level) : level_(level) {}

  // Sends `chunks` chunks, each time with `ready` compressed ones waiting and `unstarted` ones
  // waiting for a worker; `rate(level)` in bytes/s.
  void Send(int chunks, size_t ready, size_t unstarted, const std::function<double(int)>& rate) {
    for (int i = 0; i < chunks; ++i) {
      level_->Observe({ready, unstarted, kCapacity, sent_, now_});
      int current = level_->Current();
      ++chunks_at_[current];
      sent_ += kChunk;
      now_ += std::chrono::duration_cast<AdaptiveLevel::Clock::duration>(
          std::chrono::duration<double>(static_cast<double>(kChunk) / rate(current)));
    }
  }

  // Share of the chunks sent so far at `level`.
  double ShareAt(int level) const {
    int total = 0;
    for (const auto& [l, n] : chunks_at_) total += n;
    auto it = chunks_at_.find(level);
    return it == chunks_at_.end() ? 0 : static_cast<double>(it->second) / total;
  }

 private:
  AdaptiveLevel* level_;
  uint64_t sent_ = 0;
  AdaptiveLevel::Clock::time_point now_{};
  std::map<int, int> chunks_at_;
};

// A 1 Gbit/s link: the raw rate is the link's rate times the level's compression ratio.
double SlowLink(int level) {
  switch (level) {
    case 0:
      return 120e6;
    case -5:
      return 200e6;
    case -1:
      return 260e6;
    default:
      return 300e6;
  }
}

// A receiver short of CPU: every bit of compression the sender does slows it down.
double BusyReceiver(int level) {
  switch (level) {
    case 0:
      return 1000e6;
    case -5:
      return 850e6;
    case -1:
      return 800e6;
    default:
      return 700e6;
  }
}

// zstd's fast levels gain little on this data, level 1 much more.
double LinkWithPlateau(int level) { return level == -1 ? SlowLink(-5) : SlowLink(level); }

double Flat(int /*level*/) { return 500e6; }

constexpr int kManyChunks = 200 * AdaptiveLevel::kWindow;

TEST(AdaptiveLevel, FixedLevelNeverMoves) {
  AdaptiveLevel level(7, false);
  Pipeline pipeline(&level);
  pipeline.Send(kManyChunks, 0, kCapacity, Flat);
  pipeline.Send(kManyChunks, kCapacity, 0, BusyReceiver);
  EXPECT_EQ(level.Current(), 7);
}

TEST(AdaptiveLevel, StartsAtLevelOne) { EXPECT_EQ(AdaptiveLevel(0, false).Current(), 1); }

TEST(AdaptiveLevel, DryQueueDropsToStoringRaw) {
  AdaptiveLevel level(0, false);
  Pipeline pipeline(&level);
  pipeline.Send(kManyChunks, 0, kCapacity, Flat);
  EXPECT_EQ(level.Current(), 0);
}

TEST(AdaptiveLevel, SlowLinkKeepsCompressingAtTheTop) {
  AdaptiveLevel level(0, false);
  Pipeline pipeline(&level);
  pipeline.Send(kManyChunks, kCapacity, 0, SlowLink);
  EXPECT_EQ(level.Current(), 1);
  EXPECT_GT(pipeline.ShareAt(1), 0.9) << "tries of lower levels must stay rare once they failed";
}

TEST(AdaptiveLevel, BusyReceiverMakesItStepDownToStoringRaw) {
  AdaptiveLevel level(0, false);
  Pipeline pipeline(&level);
  pipeline.Send(kManyChunks, kCapacity, 0, BusyReceiver);
  EXPECT_EQ(level.Current(), 0);
  EXPECT_GT(pipeline.ShareAt(0), 0.9);
}

TEST(AdaptiveLevel, ClimbsBackWhenTheLinkBecomesTheBottleneck) {
  AdaptiveLevel level(0, false);
  Pipeline pipeline(&level);
  pipeline.Send(kManyChunks, 0, kCapacity, Flat);  // compression could not keep up: down to raw
  ASSERT_EQ(level.Current(), 0);
  pipeline.Send(kManyChunks, kCapacity, 0, SlowLink);
  EXPECT_EQ(level.Current(), 1);
}

TEST(AdaptiveLevel, ClimbsPastALevelThatGainsNothing) {
  AdaptiveLevel level(0, false);
  Pipeline pipeline(&level);
  pipeline.Send(kManyChunks, 0, kCapacity, Flat);
  ASSERT_EQ(level.Current(), 0);
  pipeline.Send(kManyChunks, kCapacity, 0, LinkWithPlateau);
  EXPECT_EQ(level.Current(), 1);
  EXPECT_GT(pipeline.ShareAt(1), 0.4);
}

TEST(AdaptiveLevel, SlowReaderKeepsTheLevel) {
  AdaptiveLevel level(0, false);
  Pipeline pipeline(&level);
  pipeline.Send(kManyChunks, 0, 0, Flat);  // nothing ready, nothing waiting for a worker
  EXPECT_EQ(level.Current(), 1);
}

TEST(AdaptiveLevel, StepThatDoesNotPayIsUndone) {
  AdaptiveLevel level(0, false);
  Pipeline pipeline(&level);
  pipeline.Send(kManyChunks, kCapacity, 0, Flat);  // nothing any level does changes the rate
  EXPECT_EQ(level.Current(), 1);
  // A try that comes out even looks one level further, so a failed one takes a few windows.
  EXPECT_GT(pipeline.ShareAt(1), 0.75);
}

TEST(AdaptiveLevel, BalancedQueueKeepsTheLevel) {
  AdaptiveLevel level(0, false);
  Pipeline pipeline(&level);
  pipeline.Send(kManyChunks, 1, 0, BusyReceiver);
  EXPECT_EQ(level.Current(), 1);
  EXPECT_EQ(pipeline.ShareAt(1), 1.0);
}

TEST(AdaptiveLevel, LocalPeerStoresRaw) {
  AdaptiveLevel level(0, true);
  Pipeline pipeline(&level);
  pipeline.Send(kManyChunks, kCapacity, 0, SlowLink);
  EXPECT_EQ(pipeline.ShareAt(0), 1.0)
      << "compressing for a receiver on this host only takes its CPU";
}

TEST(AdaptiveLevel, FixedLevelWinsOverLocalPeer) { EXPECT_EQ(AdaptiveLevel(3, true).Current(), 3); }

}  // namespace
}  // namespace xfer
