// The content digest as docs/protocol.md §3 defines it, byte for byte, and DigestFileData, which
// digests a file on disk without reading its holes.
#include "content_digest.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <random>
#include <string>
#include <vector>

#include "file_content_digest.h"
#include "fs_util.h"
#include "temp_dir.h"

namespace xfer {
namespace {

constexpr uint64_t kBlock = ContentDigest::kBlockSize;
constexpr uint64_t kTiB = uint64_t{1} << 40;

std::string U64(uint64_t value) {
  std::string bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>(value >> (8 * i)));
  return bytes;
}

Digest128 Xxh128(const std::string& bytes) {
  XXH128_hash_t hash = XXH3_128bits(bytes.data(), bytes.size());
  return Digest128{hash.high64, hash.low64};
}

// The definition, spelled out: the hashed input built in memory.
Digest128 Reference(const std::string& content) {
  std::string input;
  for (uint64_t at = 0; at < content.size(); at += kBlock) {
    std::string block = content.substr(at, kBlock);
    if (block.find_first_not_of('\0') == std::string::npos) continue;
    input += U64(at / kBlock) + block;
  }
  return Xxh128(input + U64(content.size()));
}

Digest128 Whole(const std::string& content) {
  ContentDigest digest;
  digest.Update(content.data(), content.size());
  return digest.Finish();
}

// Data and zeros around block boundaries: leading zeros, a zero block inside data, a tail.
std::string Mixed() {
  std::mt19937 random(7);
  std::string content(5 * kBlock + 1234, '\0');
  for (uint64_t at = 3000; at < kBlock + 10; ++at) content[at] = static_cast<char>(random() | 1);
  for (uint64_t at = 3 * kBlock - 5; at < 4 * kBlock + 7; ++at) content[at] = 'd';
  content[content.size() - 1] = 't';
  return content;
}

TEST(ContentDigest, EmptyFileDigestsItsSizeAlone) {
  EXPECT_EQ(ContentDigest().Finish(), Xxh128(U64(0)));
}

TEST(ContentDigest, ATebibyteOfHoleDigestsItsSizeAlone) {
  ContentDigest digest;
  digest.UpdateZeros(kTiB);
  EXPECT_EQ(digest.Finish(), Xxh128(std::string("\0\0\0\0\0\x01\0\0", 8)));
}

TEST(ContentDigest, ALastByteAfterABlockOfZerosIsBlockOne) {
  std::string content(kBlock, '\0');
  content += 'x';
  EXPECT_EQ(Whole(content), Xxh128(U64(1) + "x" + U64(kBlock + 1)));
  EXPECT_EQ(Whole(content), Reference(content));
}

TEST(ContentDigest, MatchesTheDefinitionHoweverTheContentIsCut) {
  const std::string content = Mixed();
  const Digest128 expected = Reference(content);
  EXPECT_EQ(Whole(content), expected);
  for (size_t piece : {size_t{1}, size_t{4095}, size_t{kBlock - 1}, size_t{kBlock + 3}}) {
    ContentDigest digest;
    for (size_t at = 0; at < content.size(); at += piece) {
      std::string part = content.substr(at, piece);
      // Zeros given as a hole or as bytes digest the same.
      if (part.find_first_not_of('\0') == std::string::npos) {
        digest.UpdateZeros(part.size());
      } else {
        digest.Update(part.data(), part.size());
      }
    }
    EXPECT_EQ(digest.Finish(), expected) << "pieces of " << piece;
  }
}

TEST(ContentDigest, FinishGivesThePrefixAndTheDigestGoesOn) {
  const std::string content = Mixed();
  ContentDigest digest;
  const size_t cut = 2 * kBlock + 77;
  digest.Update(content.data(), cut);
  EXPECT_EQ(digest.Finish(), Reference(content.substr(0, cut)));
  digest.Update(content.data() + cut, content.size() - cut);
  EXPECT_EQ(digest.Finish(), Reference(content));
}

// What a stream's sparse map that puts a hole over data does to the file: a changed digest.
TEST(ContentDigest, DataTurnedIntoAHoleChangesTheDigest) {
  const std::string content = Mixed();
  std::string holed = content;
  holed[3 * kBlock + 100] = '\0';
  EXPECT_NE(Whole(holed), Whole(content));
  std::string block_gone = content;
  std::fill(block_gone.begin() + 3 * kBlock, block_gone.begin() + 4 * kBlock, '\0');
  EXPECT_NE(Whole(block_gone), Whole(content));
}

class DigestFileDataTest : public ::testing::Test {
 protected:
  // Writes content to a file at offset `at` of a file of `size` bytes, the rest holes.
  UniqueFd MakeFile(uint64_t size, uint64_t at, const std::string& content) {
    UniqueFd fd(open(tmp_.Sub("f").c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    EXPECT_TRUE(fd.valid());
    EXPECT_EQ(ftruncate(fd.get(), static_cast<off_t>(size)), 0) << "no file of " << size;
    EXPECT_EQ(pwrite(fd.get(), content.data(), content.size(), static_cast<off_t>(at)),
              static_cast<ssize_t>(content.size()));
    return fd;
  }

  testing::TempDir tmp_;
  std::vector<char> buffer_ = std::vector<char>(1 << 20);
};

TEST_F(DigestFileDataTest, DigestsAFileAsItsContent) {
  const std::string content = Mixed();
  UniqueFd fd = MakeFile(content.size(), 0, content);
  ContentDigest digest;
  ASSERT_TRUE(DigestFileData(fd.get(), content.size(), "f", nullptr, &buffer_, &digest).ok());
  EXPECT_EQ(digest.Finish(), Reference(content));
}

// Reading the holes of a 1 TiB file would take minutes; its digest takes the time of its data.
TEST_F(DigestFileDataTest, SkipsTheHolesOfATebibyteFile) {
  UniqueFd fd(open(tmp_.Sub("f").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (ftruncate(fd.get(), static_cast<off_t>(kTiB)) != 0) {
    GTEST_SKIP() << "the filesystem under " << tmp_.path() << " holds no 1 TiB file";
  }
  fd = MakeFile(kTiB, kTiB / 2, "data in the middle");
  struct stat st;
  ASSERT_EQ(fstat(fd.get(), &st), 0);
  if (st.st_blocks * 512 > (1 << 20)) GTEST_SKIP() << "the filesystem does not keep holes";
  ContentDigest digest;
  ASSERT_TRUE(DigestFileData(fd.get(), kTiB, "f", nullptr, &buffer_, &digest).ok());
  ContentDigest expected;
  expected.UpdateZeros(kTiB / 2);
  expected.Update("data in the middle", 18);
  expected.UpdateZeros(kTiB / 2 - 18);
  EXPECT_EQ(digest.Finish(), expected.Finish());
}

TEST_F(DigestFileDataTest, AFileShorterThanAskedChangedSize) {
  UniqueFd fd = MakeFile(1000, 0, "abc");
  ContentDigest digest;
  Status status = DigestFileData(fd.get(), 2000, "db/x", nullptr, &buffer_, &digest);
  EXPECT_EQ(status.code(), Code::kIoError);
  EXPECT_EQ(status.message(), "db/x changed size while being read");
}

}  // namespace
}  // namespace xfer
