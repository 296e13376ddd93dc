#include "held_file.h"

#include <gtest/gtest.h>

namespace xfer {
namespace {

TEST(KeepCommonHeld, KeepsWhatBothHoldAtTheShorterPrefix) {
  HeldFile whole{"d/a", 100, 100, {1, 1}, {7, 7}};
  HeldFile prefix{"d/a", 100, 40, {1, 1}, {4, 4}};
  HeldFile other_meta{"d/b", 10, 10, {2, 2}, {5, 5}};
  HeldFile same{"d/c", 10, 10, {3, 3}, {6, 6}};
  HeldFile other_bytes{"d/c", 10, 10, {3, 3}, {9, 9}};
  HeldFile only_mine{"d/e", 1, 1, {}, {}};
  HeldFiles mine = {{"d/a", whole}, {"d/b", other_meta}, {"d/c", same}, {"d/e", only_mine}};
  HeldFile their_b = other_meta;
  their_b.meta = {8, 8};
  HeldFiles theirs = {{"d/a", prefix}, {"d/b", their_b}, {"d/c", other_bytes}};
  KeepCommonHeld(theirs, &mine);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine.at("d/a"), prefix);

  HeldFiles again = {{"d/c", same}};
  KeepCommonHeld(HeldFiles{{"d/c", same}}, &again);
  EXPECT_EQ(again.at("d/c"), same);
}

}  // namespace
}  // namespace xfer
