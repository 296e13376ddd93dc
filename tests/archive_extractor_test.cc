// ExtractArchive against streams a hostile or broken sender could produce, built with
// PaxStreamBuilder (libarchive's writer), not with WriteArchive, which never produces them.
#include "archive_extractor.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "content_digest.h"
#include "memory_bytes.h"
#include "pax_stream_builder.h"
#include "temp_dir.h"
#include "tmpfs_mount.h"
#include "written_files.h"

namespace xfer {
namespace {

using testing::MemorySource;
using testing::PaxStreamBuilder;
using testing::TempDir;
using testing::TmpfsMount;
using testing::WriteFile;

// Every path under root, except under root/staging (which the extractor may fill).
std::vector<std::string> Outside(const std::string& root) {
  std::vector<std::string> paths;
  namespace fs = std::filesystem;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    std::string path = it->path().string();
    if (path == root + "/staging") {
      it.disable_recursion_pending();
      continue;
    }
    paths.push_back(path);
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

class ArchiveExtractorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mkdir(tmp_.Sub("staging").c_str(), 0700), 0);
    char* real = realpath(tmp_.Sub("staging").c_str(), nullptr);
    staging_ = real;
    free(real);
    ASSERT_EQ(mkdir(tmp_.Sub("outside").c_str(), 0755), 0);
    WriteFile(tmp_.Sub("outside/secret"), "do not touch\n");
    before_ = Outside(tmp_.path());
  }

  Status Extract(std::string stream, std::vector<std::string> tops = {"top"}) {
    MemorySource source(std::move(stream));
    return Extract(&source, std::move(tops));
  }
  Status Extract(ByteSource* source, std::vector<std::string> tops = {"top"}) {
    ExtractOptions options{staging_, std::move(tops)};
    written_.clear();
    return ExtractArchive(source, options, nullptr, &written_, nullptr);
  }

  void ExpectNothingOutsideChanged() {
    EXPECT_EQ(Outside(tmp_.path()), before_);
    EXPECT_EQ(testing::ReadFile(tmp_.Sub("outside/secret")), "do not touch\n");
    struct stat st;
    ASSERT_EQ(stat(tmp_.Sub("outside/secret").c_str(), &st), 0);
    EXPECT_EQ(st.st_nlink, 1u);  // no hardlink made to it
  }

  void ExpectRefused(const Status& status, const std::string& name) {
    EXPECT_EQ(status.code(), Code::kUnsafe) << status.message();
    EXPECT_NE(status.message().find("'" + name + "'"), std::string::npos) << status.message();
    ExpectNothingOutsideChanged();
  }

  TempDir tmp_;
  std::string staging_;
  std::vector<std::string> before_;
  WrittenFiles written_;
};

TEST_F(ArchiveExtractorTest, ExtractsAndDigestsAPlainStream) {
  std::string content(100000, 'z');
  Status status = Extract(
      PaxStreamBuilder().Dir("top").File("top/a", content).Hardlink("top/b", "top/a").Finish());
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(testing::ReadFile(staging_ + "/top/b"), content);
  ASSERT_EQ(written_.size(), 1u);  // the hardlink adds no record
  ContentDigest digest;
  digest.Update(content.data(), content.size());
  EXPECT_EQ(written_[0], WrittenOf({"top/a", content.size(), digest.Finish()}));
}

// A stream whose sparse map claims a hole where the source has data writes zeros there, and the
// file's digest is not the source's: the MANIFEST check refuses it. Zeros the map shows as a hole
// digest as the zeros they are.
TEST_F(ArchiveExtractorTest, AHoleOverTheSourcesDataChangesTheFilesDigest) {
  constexpr size_t kBlock = ContentDigest::kBlockSize;
  const std::string a(kBlock, 'a'), b(kBlock, 'b'), c(kBlock, 'c'), zeros(kBlock, '\0');
  auto digest_of = [](const std::string& content) {
    ContentDigest digest;
    digest.Update(content.data(), content.size());
    return digest.Finish();
  };
  const int64_t size = 3 * kBlock;
  ASSERT_TRUE(Extract(PaxStreamBuilder()
                          .Dir("top")
                          .SparseFile("top/s", size, {{0, a}, {2 * kBlock, c}})
                          .Finish())
                  .ok());
  EXPECT_EQ(testing::ReadFile(staging_ + "/top/s"), a + zeros + c);
  ASSERT_EQ(written_.size(), 1u);
  EXPECT_NE(written_[0], WrittenOf({"top/s", 3 * kBlock, digest_of(a + b + c)}));
  EXPECT_EQ(written_[0], WrittenOf({"top/s", 3 * kBlock, digest_of(a + zeros + c)}));
}

TEST_F(ArchiveExtractorTest, RefusesEntryEscapingDestination) {
  ExpectRefused(Extract(PaxStreamBuilder().File("../x", "evil").Finish()), "../x");
  EXPECT_FALSE(Exists(tmp_.Sub("x")));
}

TEST_F(ArchiveExtractorTest, RefusesAbsoluteEntry) {
  ExpectRefused(Extract(PaxStreamBuilder().File("/etc/xfer-evil", "x").Finish()), "/etc/xfer-evil");
  EXPECT_FALSE(Exists("/etc/xfer-evil"));
  // Even when it names a place under an announced top-level name's directory.
  std::string target = staging_ + "/top/abs";
  ExpectRefused(Extract(PaxStreamBuilder().Dir("top").File(target, "evil").Finish()), target);
  EXPECT_FALSE(Exists(target));
}

TEST_F(ArchiveExtractorTest, RefusesEntryClimbingOutOfItsTop) {
  ExpectRefused(Extract(PaxStreamBuilder().Dir("top").File("top/../../x", "evil").Finish()),
                "top/../../x");
  EXPECT_FALSE(Exists(tmp_.Sub("x")));
}

TEST_F(ArchiveExtractorTest, RefusesEntryOutsideAnnouncedNames) {
  ExpectRefused(Extract(PaxStreamBuilder().Dir("top").File("other/x", "evil").Finish()), "other/x");
  EXPECT_FALSE(Exists(staging_ + "/other"));
}

TEST_F(ArchiveExtractorTest, RefusesWritingThroughSymlink) {
  std::string target = tmp_.Sub("outside");
  Status status = Extract(PaxStreamBuilder()
                              .Dir("top")
                              .Symlink("top/link", target)
                              .File("top/link/evil", "x")
                              .Finish());
  ExpectRefused(status, "top/link/evil");
  EXPECT_FALSE(Exists(tmp_.Sub("outside/evil")));
}

TEST_F(ArchiveExtractorTest, RefusesWritingThroughSymlinkOnALongPath) {
  // Beyond PATH_MAX the extractor walks the path itself instead of libarchive.
  std::string deep = "top/link";
  for (int i = 0; i < 20; ++i) deep += "/" + std::string(250, static_cast<char>('a' + i));
  Status status = Extract(PaxStreamBuilder()
                              .Dir("top")
                              .Symlink("top/link", tmp_.Sub("outside"))
                              .File(deep + "/evil", "x")
                              .Finish());
  ExpectRefused(status, "top/link");
}

TEST_F(ArchiveExtractorTest, RefusesDirectoryEntryReplacingSymlinkOutside) {
  // A directory entry on an existing symlink must not chmod/chown the symlink's target.
  struct stat before;
  ASSERT_EQ(stat(tmp_.Sub("outside").c_str(), &before), 0);
  Status status = Extract(PaxStreamBuilder()
                              .Dir("top")
                              .Symlink("top/link", tmp_.Sub("outside"))
                              .Dir("top/link")
                              .Finish());
  ASSERT_TRUE(status.ok()) << status.message();
  struct stat after;
  ASSERT_EQ(stat(tmp_.Sub("outside").c_str(), &after), 0);
  EXPECT_EQ(before.st_mode, after.st_mode);
  EXPECT_EQ(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
  struct stat replaced;
  ASSERT_EQ(lstat((staging_ + "/top/link").c_str(), &replaced), 0);
  EXPECT_TRUE(S_ISDIR(replaced.st_mode));
  ExpectNothingOutsideChanged();
}

TEST_F(ArchiveExtractorTest, RefusesHardlinkEscapingDestination) {
  ExpectRefused(
      Extract(PaxStreamBuilder().Dir("top").Hardlink("top/h", "../outside/secret").Finish()),
      "top/h");
  ExpectRefused(
      Extract(PaxStreamBuilder().Dir("top").Hardlink("top/h", tmp_.Sub("outside/secret")).Finish()),
      "top/h");
  EXPECT_FALSE(Exists(staging_ + "/top/h"));
}

TEST_F(ArchiveExtractorTest, RefusesHardlinkThroughSymlink) {
  Status status = Extract(PaxStreamBuilder()
                              .Dir("top")
                              .Symlink("top/link", tmp_.Sub("outside"))
                              .Hardlink("top/h", "top/link/secret")
                              .Finish());
  ExpectRefused(status, "top/h");
}

TEST_F(ArchiveExtractorTest, RefusesWritingThroughAHardlinkToASymlink) {
  // link() does not follow a symlink: the new name is a second symlink to the outside.
  Status status = Extract(PaxStreamBuilder()
                              .Dir("top")
                              .Symlink("top/link", tmp_.Sub("outside"))
                              .Hardlink("top/alias", "top/link")
                              .File("top/alias/evil", "x")
                              .Finish());
  ExpectRefused(status, "top/alias/evil");
  EXPECT_FALSE(Exists(tmp_.Sub("outside/evil")));
}

TEST_F(ArchiveExtractorTest, RefusesWritingThroughASymlinkInANestedDirectory) {
  Status status = Extract(PaxStreamBuilder()
                              .Dir("top")
                              .Dir("top/a")
                              .Symlink("top/a/link", tmp_.Sub("outside"))
                              .Dir("top/a/link/b")
                              .Finish());
  ExpectRefused(status, "top/a/link/b");
  EXPECT_FALSE(Exists(tmp_.Sub("outside/b")));
}

TEST_F(ArchiveExtractorTest, TruncatedArchiveFails) {
  std::string stream =
      PaxStreamBuilder().Dir("top").File("top/big", std::string(200000, 'b')).Finish();
  Status status = Extract(stream.substr(0, 100000));
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), Code::kProtocol) << status.message();
  EXPECT_NE(status.message().find("top/big"), std::string::npos) << status.message();
}

TEST_F(ArchiveExtractorTest, ArchiveCutInAHeaderFails) {
  std::string stream = PaxStreamBuilder().Dir("top").File("top/a", "a").File("top/b", "b").Finish();
  Status status = Extract(stream.substr(0, 1024 + 512 + 512 + 100));  // inside top/b's header
  EXPECT_EQ(status.code(), Code::kProtocol) << status.message();
}

TEST_F(ArchiveExtractorTest, ArchiveCutBetweenEntriesFails) {
  // libarchive alone would take this as a complete archive.
  PaxStreamBuilder builder;
  builder.Dir("top").File("top/a", "a").Dir("top/d");
  std::string unfinished = builder.Unfinished();
  Status status = Extract(unfinished);
  EXPECT_EQ(status.code(), Code::kProtocol) << status.message();
  std::string complete = builder.Finish();
  EXPECT_EQ(Extract(complete.substr(0, complete.size() - 512)).code(), Code::kProtocol);
  EXPECT_TRUE(Extract(complete).ok());
}

TEST_F(ArchiveExtractorTest, DirectoryFixupsDoNotFollowALaterSymlink) {
  // libarchive sets directory modes and times at the end, by name; by then the name may be a
  // symlink to somewhere else.
  struct stat before;
  ASSERT_EQ(stat(tmp_.Sub("outside").c_str(), &before), 0);
  Status status = Extract(PaxStreamBuilder()
                              .Dir("top")
                              .Dir("top/d", 0777)
                              .Symlink("top/d", tmp_.Sub("outside"))
                              .Finish());
  ASSERT_TRUE(status.ok()) << status.message();
  struct stat after;
  ASSERT_EQ(stat(tmp_.Sub("outside").c_str(), &after), 0);
  EXPECT_EQ(before.st_mode, after.st_mode);
  EXPECT_EQ(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
  ExpectNothingOutsideChanged();
}

TEST_F(ArchiveExtractorTest, EmptyStreamFails) { EXPECT_EQ(Extract("").code(), Code::kProtocol); }

TEST_F(ArchiveExtractorTest, SourceFailureIsReturnedAsIs) {
  MemorySource source(
      PaxStreamBuilder().Dir("top").File("top/big", std::string(200000, 'b')).Finish());
  source.FailAt(50000, Status(Code::kCorrupt, "chunk 3: checksum mismatch"));
  Status status = Extract(&source);
  EXPECT_EQ(status.code(), Code::kCorrupt);
  EXPECT_EQ(status.message(), "chunk 3: checksum mismatch");
}

TEST_F(ArchiveExtractorTest, ReturnsAtTheEndMarker) {
  std::string stream = PaxStreamBuilder().Dir("top").File("top/a", "a").Finish();
  MemorySource source(stream + std::string(4096, '\x5a'), 512);
  Status status = Extract(&source);
  EXPECT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(written_.size(), 1u);
}

TEST_F(ArchiveExtractorTest, CancellationStopsExtraction) {
  CancelToken cancel;
  cancel.Cancel();
  MemorySource source(PaxStreamBuilder().Dir("top").File("top/a", "a").Finish());
  ExtractOptions options{staging_, {"top"}};
  EXPECT_EQ(ExtractArchive(&source, options, &cancel, &written_, nullptr).code(), Code::kCancelled);
}

TEST_F(ArchiveExtractorTest, MessagesEscapeNonPrintableNames) {
  Status status = Extract(PaxStreamBuilder().File("../\x1b[2Jx", "evil").Finish());
  EXPECT_EQ(status.code(), Code::kUnsafe);
  EXPECT_NE(status.message().find("../\\x1b[2Jx"), std::string::npos) << status.message();
}

TEST_F(ArchiveExtractorTest, InvalidOptionsAreRejected) {
  MemorySource source(PaxStreamBuilder().Dir("top").Finish());
  ExtractOptions relative{"staging", {"top"}};
  EXPECT_EQ(ExtractArchive(&source, relative, nullptr, &written_, nullptr).code(),
            Code::kInvalidArgument);
  ExtractOptions bad_top{staging_, {"a/b"}};
  EXPECT_EQ(ExtractArchive(&source, bad_top, nullptr, &written_, nullptr).code(),
            Code::kInvalidArgument);
}

TEST(ArchiveExtractorNoSpaceTest, FullFilesystemIsNoSpaceNamingTheFile) {
  TempDir tmp;
  ASSERT_EQ(mkdir(tmp.Sub("small").c_str(), 0700), 0);
  std::string error;
  auto small = TmpfsMount::Mount(tmp.Sub("small"), "size=1m,mode=0700", &error);
  if (!small) GTEST_SKIP() << error;
  std::string staging = tmp.Sub("small");
  std::string content(4 << 20, '\x42');
  MemorySource source(PaxStreamBuilder().Dir("top").File("top/ibdata1", content).Finish(), 1 << 16);
  ExtractOptions options{staging, {"top"}};
  WrittenFiles written;
  Status status = ExtractArchive(&source, options, nullptr, &written, nullptr);
  EXPECT_EQ(status.code(), Code::kNoSpace) << status.message();
  EXPECT_EQ(status.message(), "writing top/ibdata1: No space left on device");
}

}  // namespace
}  // namespace xfer
