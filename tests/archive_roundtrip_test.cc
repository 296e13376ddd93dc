// WriteArchive into memory, ExtractArchive from it, and the two trees must be the same.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <clocale>
#include <string>
#include <vector>

#include "archive_extractor.h"
#include "archive_source.h"
#include "memory_bytes.h"
#include "temp_dir.h"
#include "tree_builder.h"
#include "tree_compare.h"
#include "written_files.h"

namespace xfer {
namespace {

using testing::DescribeDiffs;
using testing::MakeStaging;
using testing::MemorySink;
using testing::MemorySource;
using testing::TempDir;
using testing::TestTree;
using testing::WriteFile;

class ArchiveRoundTripTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: devices, owners, setuid bits";
    testing::BuildTestTree(tmp_.path(), "top", &tree_);
    ASSERT_FALSE(HasFailure());
    for (const std::string& note : tree_.notes) std::cerr << "[ note ] " << note << "\n";
  }

  Status Extract(const std::string& stream, const std::string& staging, WrittenFiles* written,
                 ExtractCounters* counters, size_t piece = 7 * 1024 + 3) {
    MemorySource source(stream, piece);
    ExtractOptions options;
    options.staging_dir = staging;
    options.top_names = {"top"};
    return ExtractArchive(&source, options, nullptr, written, counters);
  }

  TempDir tmp_;
  TestTree tree_;
};

TEST_F(ArchiveRoundTripTest, CopyIsIdenticalToSource) {
  MemorySink sink;
  Manifest sent;
  ArchiveCounters sent_counters;
  ASSERT_TRUE(WriteArchive({tree_.root}, &sink, nullptr, nullptr, &sent, &sent_counters).ok());

  std::string staging = MakeStaging(tmp_);
  WrittenFiles written;
  ExtractCounters written_counters;
  Status status = Extract(sink.bytes, staging, &written, &written_counters);
  ASSERT_TRUE(status.ok()) << status.message();

  std::vector<std::string> diffs = testing::CompareTrees(tree_.root, staging + "/top");
  EXPECT_TRUE(diffs.empty()) << diffs.size() << " differences:\n" << DescribeDiffs(diffs);
  EXPECT_EQ(testing::WrittenOf(sent), written);
  EXPECT_EQ(sent_counters.entries_written.load(), written_counters.entries_written.load());
  EXPECT_EQ(sent_counters.content_bytes_read.load(), written_counters.content_bytes_written.load());
}

// The round trip above is only as strong as CompareTrees: it must see each kind of change.
TEST_F(ArchiveRoundTripTest, CompareTreesSeesEveryKindOfDifference) {
  MemorySink sink;
  Manifest sent;
  ASSERT_TRUE(WriteArchive({tree_.root}, &sink, nullptr, nullptr, &sent, nullptr).ok());
  std::string staging = MakeStaging(tmp_);
  WrittenFiles written;
  ASSERT_TRUE(Extract(sink.bytes, staging, &written, nullptr).ok());
  const std::string copy = staging + "/top/";
  ASSERT_TRUE(testing::CompareTrees(tree_.root, staging + "/top").empty());

  ASSERT_EQ(chmod((copy + "small.txt").c_str(), 0600), 0);
  ASSERT_EQ(lchown((copy + "owned/link").c_str(), 1, 1), 0);
  struct timespec times[2] = {{1, 5}, {1, 5}};
  ASSERT_EQ(utimensat(AT_FDCWD, (copy + "links/dangling").c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
  int fd = open((copy + "mixed.bin").c_str(), O_WRONLY);
  ASSERT_EQ(pwrite(fd, "!", 1, 2 << 20), 1);
  close(fd);
  ASSERT_EQ(unlink((copy + "links/relative").c_str()), 0);
  ASSERT_EQ(symlink("../empty", (copy + "links/relative").c_str()), 0);
  ASSERT_EQ(unlink((copy + "hard/two").c_str()), 0);
  WriteFile(copy + "hard/two", "three names, one inode\n");
  ASSERT_EQ(unlink((copy + "special/null").c_str()), 0);
  ASSERT_EQ(mknod((copy + "special/null").c_str(), S_IFCHR | 0666, makedev(1, 5)), 0);
  WriteFile(copy + "extra", "");
  ASSERT_EQ(rename((copy + "emptydir").c_str(), (copy + "emptydir2").c_str()), 0);
  if (tree_.sparse) {
    fd = open((copy + "sparse.img").c_str(), O_WRONLY);
    std::string zeros(1 << 20, '\0');
    for (off_t at = 0; at < (8 << 20); at += zeros.size()) {
      ASSERT_EQ(pwrite(fd, zeros.data(), zeros.size(), at), static_cast<ssize_t>(zeros.size()));
    }
    close(fd);
  }
  if (tree_.xattrs) {
    ASSERT_EQ(setxattr((copy + "xattr/file").c_str(), "user.foo", "other", 5, 0), 0);
  }
  if (tree_.acls) {
    ASSERT_EQ(system(("setfacl -x u:1234 '" + copy + "acl/file'").c_str()), 0);
  }
  std::string deep_copy = staging + "/" + tree_.deep_file;
  ASSERT_GT(deep_copy.size(), 4096u);
  // Too long for chmod(2): go there in two steps.
  size_t middle = deep_copy.find('/', 3000);
  int dir = open(deep_copy.substr(0, middle).c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(dir, 0);
  ASSERT_EQ(fchmodat(dir, deep_copy.substr(middle + 1).c_str(), 0600, 0), 0);
  close(dir);

  std::vector<std::string> diffs = testing::CompareTrees(tree_.root, staging + "/top");
  std::string all = DescribeDiffs(diffs);
  for (const char* expected :
       {"top/small.txt: mode 0644 != 0600", "top/owned/link: owner 4321:8765 != 1:1",
        "top/links/dangling: mtime", "top/mixed.bin: content differs",
        "top/links/relative: symlink target '../small.txt' != '../empty'",
        "top/hard/two: link count 3 != 1", "top/special/null: device 1,3 != 1,5",
        "top/extra: only in second tree", "top/emptydir: only in first tree",
        "top/emptydir2: only in second tree", "/file: mode 0644 != 0600"}) {
    EXPECT_NE(all.find(expected), std::string::npos) << "missing: " << expected << "\n" << all;
  }
  if (tree_.sparse) {
    EXPECT_NE(all.find("top/sparse.img: occupies"), std::string::npos) << all;
  }
  if (tree_.xattrs) {
    EXPECT_NE(all.find("top/xattr/file: xattr user.foo"), std::string::npos) << all;
  }
  if (tree_.acls) {
    EXPECT_NE(all.find("top/acl/file: xattr system.posix_acl_access"), std::string::npos) << all;
  }
}

TEST_F(ArchiveRoundTripTest, HolesAreNotTransmitted) {
  if (!tree_.sparse) GTEST_SKIP() << "the filesystem here does not keep holes";
  MemorySink sink;
  Manifest sent;
  ASSERT_TRUE(WriteArchive({tree_.root}, &sink, nullptr, nullptr, &sent, nullptr).ok());
  // 64 MiB + 3 MiB apparent in the sparse files, 3 MiB of data in them, ~4 MiB elsewhere.
  EXPECT_LT(sink.bytes.size(), 12u << 20);
  auto sparse = std::find_if(sent.begin(), sent.end(),
                             [&](const ManifestRecord& r) { return r.path == tree_.sparse_file; });
  ASSERT_NE(sparse, sent.end());
  EXPECT_EQ(sparse->size, 64u << 20);
}

TEST_F(ArchiveRoundTripTest, SummaryMatchesWhatIsSent) {
  SourceSummary summary;
  ASSERT_TRUE(SummarizeSources({tree_.root}, &summary).ok());
  MemorySink sink;
  Manifest sent;
  ArchiveCounters counters;
  ASSERT_TRUE(WriteArchive({tree_.root}, &sink, nullptr, nullptr, &sent, &counters).ok());
  EXPECT_EQ(summary.top_names, std::vector<std::string>{"top"});
  EXPECT_EQ(summary.entries, counters.entries_written.load());
  EXPECT_EQ(summary.files, sent.size());  // three hardlinks: one file, one record
  EXPECT_EQ(summary.content_bytes, counters.content_bytes_read.load());
  EXPECT_GT(summary.allocated_bytes, 0u);
  if (tree_.sparse) {
    EXPECT_LT(summary.allocated_bytes, summary.content_bytes / 4);
  }
}

TEST_F(ArchiveRoundTripTest, HardlinksHaveOneManifestRecord) {
  MemorySink sink;
  Manifest sent;
  ASSERT_TRUE(WriteArchive({tree_.root}, &sink, nullptr, nullptr, &sent, nullptr).ok());
  int hard = 0;
  for (const ManifestRecord& record : sent) hard += record.path.rfind("top/hard/", 0) == 0;
  EXPECT_EQ(hard, 1);
}

TEST_F(ArchiveRoundTripTest, SameTreeGivesSameStream) {
  MemorySink first, second;
  Manifest m1, m2;
  ASSERT_TRUE(WriteArchive({tree_.root}, &first, nullptr, nullptr, &m1, nullptr).ok());
  ASSERT_TRUE(WriteArchive({tree_.root}, &second, nullptr, nullptr, &m2, nullptr).ok());
  EXPECT_TRUE(first.bytes == second.bytes);
  EXPECT_EQ(m1, m2);
}

TEST_F(ArchiveRoundTripTest, CancellationStopsWriteArchive) {
  CancelToken cancel;
  MemorySink sink;
  sink.on_write = [&](size_t total) {
    if (total > (1u << 20)) cancel.Cancel();
    return Status::Ok();
  };
  Manifest sent;
  Status status = WriteArchive({tree_.root}, &sink, &cancel, nullptr, &sent, nullptr);
  EXPECT_EQ(status.code(), Code::kCancelled) << status.message();
  EXPECT_LT(sink.bytes.size(), 4u << 20);  // stopped within a block or two
}

TEST_F(ArchiveRoundTripTest, CancelledBeforeStartWritesNothingUseful) {
  CancelToken cancel;
  cancel.Cancel();
  MemorySink sink;
  Manifest sent;
  EXPECT_EQ(WriteArchive({tree_.root}, &sink, &cancel, nullptr, &sent, nullptr).code(),
            Code::kCancelled);
  EXPECT_TRUE(sent.empty());
}

TEST_F(ArchiveRoundTripTest, SinkFailureIsReturnedAsIs) {
  MemorySink sink;
  sink.on_write = [](size_t total) {
    return total > 100000 ? Status(Code::kNetwork, "the receiver went away") : Status::Ok();
  };
  Manifest sent;
  Status status = WriteArchive({tree_.root}, &sink, nullptr, nullptr, &sent, nullptr);
  EXPECT_EQ(status.code(), Code::kNetwork);
  EXPECT_EQ(status.message(), "the receiver went away");
}

TEST_F(ArchiveRoundTripTest, ExtractsFromOneByteAndLargePieces) {
  TempDir small_tmp;
  ASSERT_EQ(mkdir(small_tmp.Sub("src").c_str(), 0755), 0);
  WriteFile(small_tmp.Sub("src/a"), std::string(5000, 'a'));
  ASSERT_EQ(mkdir(small_tmp.Sub("src/d").c_str(), 0700), 0);
  WriteFile(small_tmp.Sub("src/d/b"), "bee");
  MemorySink sink;
  Manifest sent;
  ASSERT_TRUE(WriteArchive({small_tmp.Sub("src")}, &sink, nullptr, nullptr, &sent, nullptr).ok());
  for (size_t piece : {size_t{1}, size_t{512}, size_t{1} << 30}) {
    std::string staging = MakeStaging(small_tmp);
    MemorySource source(sink.bytes, piece);
    ExtractOptions options{staging, {"src"}};
    WrittenFiles written;
    Status status = ExtractArchive(&source, options, nullptr, &written, nullptr);
    ASSERT_TRUE(status.ok()) << status.message();
    EXPECT_EQ(testing::WrittenOf(sent), written) << "pieces of " << piece;
    EXPECT_TRUE(testing::CompareTrees(small_tmp.Sub("src"), staging + "/src").empty());
  }
}

TEST_F(ArchiveRoundTripTest, NonUtf8NamesSurviveAUtf8Locale) {
  // Programs that call setlocale() make libarchive convert names to and from the locale's
  // charset; hdrcharset=BINARY must keep them bytes anyway.
  std::string saved = setlocale(LC_ALL, nullptr);
  if (setlocale(LC_ALL, "C.UTF-8") == nullptr) GTEST_SKIP() << "no C.UTF-8 locale";
  MemorySink sink;
  Manifest sent;
  Status status = WriteArchive({tree_.root + "/names"}, &sink, nullptr, nullptr, &sent, nullptr);
  std::string staging = MakeStaging(tmp_);
  WrittenFiles written;
  if (status.ok()) {
    MemorySource source(sink.bytes, 4096);
    status =
        ExtractArchive(&source, ExtractOptions{staging, {"names"}}, nullptr, &written, nullptr);
  }
  setlocale(LC_ALL, saved.c_str());
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(testing::WrittenOf(sent), written);
  std::vector<std::string> diffs = testing::CompareTrees(tree_.root + "/names", staging + "/names");
  EXPECT_TRUE(diffs.empty()) << DescribeDiffs(diffs);
}

// A sink that changes a file while its content is being sent.
class ChangingFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mkdir(tmp_.Sub("db").c_str(), 0755), 0);
    WriteFile(tmp_.Sub("db/ib_logfile0"), std::string(4 << 20, 'x'));
  }
  TempDir tmp_;
};

TEST_F(ChangingFileTest, FileThatGrowsFails) {
  MemorySink sink;
  bool grown = false;
  sink.on_write = [&](size_t total) {
    if (!grown && total > (1u << 20)) {
      grown = true;
      int fd = open(tmp_.Sub("db/ib_logfile0").c_str(), O_WRONLY | O_APPEND);
      EXPECT_EQ(write(fd, "more", 4), 4);
      close(fd);
    }
    return Status::Ok();
  };
  Manifest sent;
  Status status = WriteArchive({tmp_.Sub("db")}, &sink, nullptr, nullptr, &sent, nullptr);
  EXPECT_EQ(status.code(), Code::kIoError);
  EXPECT_EQ(status.message(), "db/ib_logfile0 changed size while being read");
}

TEST_F(ChangingFileTest, FileThatShrinksFails) {
  MemorySink sink;
  sink.on_write = [&](size_t total) {
    if (total > (1u << 20)) {
      EXPECT_EQ(truncate(tmp_.Sub("db/ib_logfile0").c_str(), 1 << 20), 0);
    }
    return Status::Ok();
  };
  Manifest sent;
  Status status = WriteArchive({tmp_.Sub("db")}, &sink, nullptr, nullptr, &sent, nullptr);
  EXPECT_EQ(status.code(), Code::kIoError);
  EXPECT_EQ(status.message(), "db/ib_logfile0 changed size while being read");
}

TEST(ArchiveSourceTest, MissingPathIsNamed) {
  MemorySink sink;
  Manifest sent;
  Status status = WriteArchive({"/nonexistent-xfer/x"}, &sink, nullptr, nullptr, &sent, nullptr);
  EXPECT_EQ(status.code(), Code::kIoError);
  EXPECT_EQ(status.message(), "/nonexistent-xfer/x: No such file or directory");
  SourceSummary summary;
  EXPECT_EQ(SummarizeSources({"/nonexistent-xfer/x"}, &summary).message(),
            "/nonexistent-xfer/x: No such file or directory");
}

TEST(ArchiveSourceTest, SameBasenameTwiceIsInvalid) {
  TempDir tmp;
  ASSERT_EQ(mkdir(tmp.Sub("a").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(tmp.Sub("b").c_str(), 0755), 0);
  WriteFile(tmp.Sub("a/x"), "1");
  WriteFile(tmp.Sub("b/x"), "2");
  SourceSummary summary;
  Status status = SummarizeSources({tmp.Sub("a/x"), tmp.Sub("b/x/")}, &summary);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  MemorySink sink;
  Manifest sent;
  EXPECT_EQ(WriteArchive({tmp.Sub("a/x"), tmp.Sub("b/x")}, &sink, nullptr, nullptr, &sent, nullptr)
                .code(),
            Code::kInvalidArgument);
}

TEST(ArchiveSourceTest, SeveralTopsAreStoredUnderTheirBasenames) {
  TempDir tmp;
  ASSERT_EQ(mkdir(tmp.Sub("a").c_str(), 0755), 0);
  WriteFile(tmp.Sub("a/one"), "1");
  WriteFile(tmp.Sub("two"), "22");
  SourceSummary summary;
  ASSERT_TRUE(SummarizeSources({tmp.Sub("a/"), tmp.Sub("two")}, &summary).ok());
  EXPECT_EQ(summary.top_names, (std::vector<std::string>{"a", "two"}));
  EXPECT_EQ(summary.entries, 3u);
  EXPECT_EQ(summary.files, 2u);
  EXPECT_EQ(summary.content_bytes, 3u);
  MemorySink sink;
  Manifest sent;
  ASSERT_TRUE(
      WriteArchive({tmp.Sub("a/"), tmp.Sub("two")}, &sink, nullptr, nullptr, &sent, nullptr).ok());
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].path, "a/one");
  EXPECT_EQ(sent[1].path, "two");
}

}  // namespace
}  // namespace xfer
