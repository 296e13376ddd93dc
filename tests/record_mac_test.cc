#include "record_mac.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace xfer {
namespace {

class RecordMacTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::memset(key_.data(), 7, key_.size());
    ASSERT_TRUE(RecordMac::Create(key_, &mac_).ok());
  }

  std::vector<uint8_t> TagOf(uint64_t seq, std::vector<uint8_t> head, std::vector<uint8_t> body) {
    std::vector<uint8_t> tag(RecordMac::kTagSize);
    EXPECT_TRUE(mac_->Compute(seq, head, body, tag.data()).ok());
    return tag;
  }

  DerivedKey key_;
  std::unique_ptr<RecordMac> mac_;
  std::vector<uint8_t> head_{4, 0, 0, 0};
  std::vector<uint8_t> body_{'d', 'a', 't', 'a'};
};

TEST_F(RecordMacTest, VerifiesItsOwnTag) {
  std::vector<uint8_t> tag = TagOf(5, head_, body_);
  EXPECT_TRUE(mac_->Verify(5, head_, body_, tag.data()));
}

// Body and head are one message (body first), wherever it is split, and the same tag comes again
// for the same record (the key schedule is reused, the state is not).
TEST_F(RecordMacTest, TagCoversBodyAndHeadAsOneMessage) {
  std::vector<uint8_t> joined = body_;
  joined.insert(joined.end(), head_.begin(), head_.end());
  EXPECT_EQ(TagOf(5, head_, body_), TagOf(5, joined, {}));
  EXPECT_EQ(TagOf(5, head_, body_), TagOf(5, head_, body_));
}

TEST_F(RecordMacTest, AnotherSequenceNumberHeadOrBodyFails) {
  std::vector<uint8_t> tag = TagOf(5, head_, body_);
  std::vector<uint8_t> head = head_, body = body_;
  head[0] ^= 1;
  body[3] ^= 0x80;
  EXPECT_FALSE(mac_->Verify(6, head_, body_, tag.data()));
  EXPECT_FALSE(mac_->Verify(5, head, body_, tag.data()));
  EXPECT_FALSE(mac_->Verify(5, head_, body, tag.data()));
}

TEST_F(RecordMacTest, AnotherKeyFails) {
  DerivedKey other;
  std::memset(other.data(), 8, other.size());
  std::unique_ptr<RecordMac> mac;
  ASSERT_TRUE(RecordMac::Create(other, &mac).ok());
  std::vector<uint8_t> tag = TagOf(5, head_, body_);
  EXPECT_FALSE(mac->Verify(5, head_, body_, tag.data()));
}

}  // namespace
}  // namespace xfer
