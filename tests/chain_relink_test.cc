// Which targets of a chain get another pass after a hop died or failed (chain_relink.h).
#include "chain_relink.h"

#include <gtest/gtest.h>

namespace xfer::orchestrator {
namespace {

using Targets = std::vector<size_t>;

HopEnd Verified(size_t target) { return HopEnd{target, true, false, ""}; }
HopEnd DiedHop(size_t target) { return HopEnd{target, false, true, ""}; }
HopEnd Failed(size_t target, const std::string& code) { return HopEnd{target, false, false, code}; }

TEST(ChainRelink, TargetsBehindADeadHopThatLostTheirUpstreamAreFedAgain) {
  EXPECT_EQ(TargetsToRelink({Verified(0), DiedHop(1), Failed(2, "network")}, true), Targets{2});
  EXPECT_EQ(TargetsToRelink({DiedHop(0), Failed(1, "timeout"), Failed(2, "")}, true),
            (Targets{1, 2}));
}

TEST(ChainRelink, ADeadHopIsNotFedAgain) {
  EXPECT_EQ(TargetsToRelink({Verified(0), DiedHop(1), DiedHop(2)}, true), Targets{});
}

TEST(ChainRelink, ATargetThatFailedOnItsOwnKeepsItsReason) {
  EXPECT_EQ(TargetsToRelink({DiedHop(0), Failed(1, "no_space"), Failed(2, "peer_failed")}, true),
            Targets{2});
}

TEST(ChainRelink, TheFirstFailedHopIsNeverFedAgain) {
  EXPECT_EQ(TargetsToRelink({Verified(0), Failed(1, "network"), Verified(2)}, true), Targets{});
}

// The sender fails when its receiver, the first hop, dies: that hop explains it, not the source.
TEST(ChainRelink, ADeadFirstHopIsReLinkedAroundThoughTheSenderFailed) {
  EXPECT_EQ(TargetsToRelink({DiedHop(0), Failed(1, "network"), Failed(2, "network")}, false),
            (Targets{1, 2}));
  EXPECT_EQ(TargetsToRelink({Failed(0, "no_space"), Failed(1, "network")}, false), Targets{1});
}

TEST(ChainRelink, NothingIsFedAgainWhenTheSourceFailed) {
  EXPECT_EQ(TargetsToRelink({Failed(0, "network"), Failed(1, "network")}, false), Targets{});
}

TEST(ChainRelink, OwnFailuresAreThoseOfTheTargetsHost) {
  for (const char* code : {"no_space", "io_error", "exists", "unsafe", "invalid_argument"}) {
    EXPECT_TRUE(FailedOnItsOwn(code)) << code;
  }
  for (const char* code : {"network", "timeout", "peer_failed", "cancelled", ""}) {
    EXPECT_FALSE(FailedOnItsOwn(code)) << code;
  }
}

}  // namespace
}  // namespace xfer::orchestrator
