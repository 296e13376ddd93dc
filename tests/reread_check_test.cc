// RereadCheck on staged trees, and xfer-recv --checksum end to end.
#include "reread_check.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content_digest.h"
#include "fs_util.h"
#include "temp_dir.h"
#include "transfer_harness.h"
#include "tree_builder.h"
#include "tree_compare.h"

namespace xfer {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

// The record a receiver makes for a file it wrote with this content.
ManifestRecord RecordOf(const std::string& path, const std::string& content) {
  ContentDigest hasher;
  hasher.Update(content.data(), content.size());
  return ManifestRecord{path, content.size(), hasher.Finish()};
}

class RereadCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mkdir(tmp_.Sub("top").c_str(), 0755), 0);
    ASSERT_EQ(mkdir(tmp_.Sub("top/sub").c_str(), 0755), 0);
    Stage("top/a.txt", "hello");
    Stage("top/sub/b.bin", std::string(3 << 20, 'b'));  // several reads
    Stage("top/empty", "");
  }

  // Re-reads every file of the manifest, as the receiver does record by record.
  Status RereadCheck(const std::string& dir, const Manifest& manifest, const CancelToken* cancel,
                     RereadStats* stats) {
    xfer::RereadCheck check(cancel);
    XFER_RETURN_IF_ERROR(check.Open(dir));
    for (const ManifestRecord& record : manifest) XFER_RETURN_IF_ERROR(check.Check(record));
    *stats = check.stats();
    return Status::Ok();
  }

  // Writes a file into the staging tree and records it as written.
  void Stage(const std::string& path, const std::string& content) {
    WriteFile(tmp_.Sub(path), content);
    manifest_.push_back(RecordOf(path, content));
  }

  TempDir tmp_;
  Manifest manifest_;
  RereadStats stats_;
};

TEST_F(RereadCheckTest, PassesWhenEveryFileMatchesAndCountsWhatItRead) {
  ASSERT_TRUE(RereadCheck(tmp_.path(), manifest_, nullptr, &stats_).ok());
  EXPECT_EQ(stats_.files, 3u);
  EXPECT_EQ(stats_.bytes, 5u + (3u << 20));
  EXPECT_TRUE(stats_.Describe().starts_with("re-read 3 files (3.0 MiB) in ")) << stats_.Describe();
}

TEST_F(RereadCheckTest, FileChangedAfterWritingFailsNamingIt) {
  // Same size, one byte different, deep inside: only the digest can tell.
  std::string changed(3 << 20, 'b');
  changed[2 << 20] = 'c';
  WriteFile(tmp_.Sub("top/sub/b.bin"), changed);
  Status status = RereadCheck(tmp_.path(), manifest_, nullptr, &stats_);
  EXPECT_EQ(status.code(), Code::kCorrupt);
  EXPECT_EQ(status.message(),
            "re-reading top/sub/b.bin: the content on disk differs from what was sent");
}

TEST_F(RereadCheckTest, FileOfAnotherSizeFailsNamingIt) {
  ASSERT_EQ(truncate(tmp_.Sub("top/a.txt").c_str(), 3), 0);
  Status status = RereadCheck(tmp_.path(), manifest_, nullptr, &stats_);
  EXPECT_EQ(status.code(), Code::kCorrupt);
  EXPECT_EQ(status.message(), "re-reading top/a.txt: 3 bytes on disk, 5 were sent");
}

TEST_F(RereadCheckTest, MissingFileFailsNamingIt) {
  ASSERT_EQ(unlink(tmp_.Sub("top/empty").c_str()), 0);
  Status status = RereadCheck(tmp_.path(), manifest_, nullptr, &stats_);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "re-reading top/empty: No such file or directory");
}

TEST_F(RereadCheckTest, SymlinkOnTheWayIsNotFollowed) {
  // top/sub replaced by a link to a directory holding an identical file: it must not pass.
  ASSERT_EQ(rename(tmp_.Sub("top/sub").c_str(), tmp_.Sub("elsewhere").c_str()), 0);
  ASSERT_EQ(symlink("../elsewhere", tmp_.Sub("top/sub").c_str()), 0);
  Status status = RereadCheck(tmp_.path(), manifest_, nullptr, &stats_);
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(status.message().starts_with("re-reading top/sub/b.bin: ")) << status.message();
}

TEST_F(RereadCheckTest, NonPrintableNamesAreEscapedInMessages) {
  Stage("top/bad\nname", "x");
  WriteFile(tmp_.Sub("top/bad\nname"), "y");
  Status status = RereadCheck(tmp_.path(), manifest_, nullptr, &stats_);
  EXPECT_EQ(status.code(), Code::kCorrupt);
  EXPECT_EQ(status.message(),
            "re-reading top/bad\\nname: the content on disk differs from what was sent");
}

TEST_F(RereadCheckTest, ReadsPathsLongerThanPathMax) {
  // 40 levels of 200-byte names: about 8 KiB, twice PATH_MAX.
  const std::string component(200, 'd');
  std::string rel = "top";
  UniqueFd dir(open(tmp_.Sub("top").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dir.valid());
  for (int i = 0; i < 40; ++i) {
    ASSERT_EQ(mkdirat(dir.get(), component.c_str(), 0755), 0);
    dir = UniqueFd(openat(dir.get(), component.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(dir.valid());
    rel += "/" + component;
  }
  UniqueFd file(openat(dir.get(), "deep.txt", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  ASSERT_TRUE(file.valid());
  ASSERT_EQ(write(file.get(), "deep", 4), 4);
  manifest_.push_back(RecordOf(rel + "/deep.txt", "deep"));
  ASSERT_TRUE(RereadCheck(tmp_.path(), manifest_, nullptr, &stats_).ok());
  EXPECT_EQ(stats_.files, 4u);

  ASSERT_EQ(pwrite(file.get(), "DEEP", 4, 0), 4);
  Status status = RereadCheck(tmp_.path(), manifest_, nullptr, &stats_);
  EXPECT_EQ(status.code(), Code::kCorrupt);
  EXPECT_TRUE(
      status.message().ends_with("/deep.txt: the content on disk differs from what was sent"))
      << status.message().substr(status.message().size() - 100);
}

TEST_F(RereadCheckTest, StopsWhenCancelled) {
  CancelToken cancel;
  cancel.Cancel();
  EXPECT_EQ(RereadCheck(tmp_.path(), manifest_, &cancel, &stats_).code(), Code::kCancelled);
}

class ChecksumTransferTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(mkdir(dst_.c_str(), 0755), 0); }

  TempDir tmp_;
  std::string dst_ = tmp_.Sub("dst");
};

TEST_F(ChecksumTransferTest, RereadsEveryFileAndCommits) {
  ASSERT_EQ(mkdir(tmp_.Sub("data").c_str(), 0755), 0);
  WriteFile(tmp_.Sub("data/hello.txt"), "hello, world\n");
  testing::WriteRandomFile(tmp_.Sub("data/random.bin"), 5 << 20);
  std::string ticket;
  auto receiver = testing::StartReceiver(dst_, {"--checksum", "--verbose"}, &ticket);
  auto sender = testing::StartSender(ticket, {tmp_.Sub("data")});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  EXPECT_NE(receiver->stderr_text().find("xfer-recv: re-read 2 files (5.0 MiB) in "),
            std::string::npos)
      << receiver->stderr_text();
  EXPECT_EQ(ReadFile(dst_ + "/data/random.bin"), ReadFile(tmp_.Sub("data/random.bin")));
  EXPECT_EQ(testing::ListDir(dst_), std::vector<std::string>{"data"});
}

TEST_F(ChecksumTransferTest, PassesOnEveryKindOfEntry) {
  // Holes, hardlinks, 0000 modes, odd names and a path longer than 4 KiB: a re-read that
  // mis-handled any of them would fail a good transfer.
  testing::TestTree tree;
  testing::BuildTestTree(tmp_.path(), "tree", &tree);
  std::string ticket;
  auto receiver = testing::StartReceiver(dst_, {"--checksum", "--verbose"}, &ticket);
  auto sender = testing::StartSender(ticket, {tree.root});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  EXPECT_NE(receiver->stderr_text().find("xfer-recv: re-read "), std::string::npos)
      << receiver->stderr_text();
  EXPECT_EQ(testing::CompareTrees(tree.root, dst_ + "/tree"), std::vector<std::string>{});
}

}  // namespace
}  // namespace xfer
