// ArchiveFileOutput: a received pax stream stored as a .tar / .tar.zst file that tar restores,
// with the manifest the extractor would have produced, and nothing left behind on failure.
#include "archive_file_output.h"

#include <archive_entry.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "archive_extractor.h"
#include "archive_metadata_digest.h"
#include "archive_source.h"
#include "entry_marks.h"
#include "memory_bytes.h"
#include "pax_stream_builder.h"
#include "temp_dir.h"
#include "tmpfs_mount.h"
#include "tree_builder.h"
#include "tree_compare.h"
#include "tree_prune.h"
#include "written_files.h"

namespace xfer {
namespace {

using testing::DescribeDiffs;
using testing::kOddPiece;
using testing::MemorySink;
using testing::MemorySource;
using testing::PaxStreamBuilder;
using testing::ReadFile;
using testing::TempDir;
using testing::TestTree;
using testing::TmpfsMount;
using testing::WriteFile;

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool Shell(const std::string& command) { return system(command.c_str()) == 0; }

// Create + Store in one go; the output stays open (uncommitted) in *out.
Status CreateAndStore(const std::string& path, bool overwrite, const std::string& stream,
                      const std::vector<std::string>& top_names, WrittenFiles* written,
                      std::unique_ptr<ArchiveFileOutput>* out, ExtractCounters* counters = nullptr,
                      const CancelToken* cancel = nullptr) {
  XFER_RETURN_IF_ERROR(ArchiveFileOutput::Create(path, overwrite, out));
  MemorySource source(stream, kOddPiece);
  return (*out)->Store(&source, top_names, cancel, written, counters);
}

// The tree of tree_builder.h, its pax stream and manifest as the sender makes them.
class ArchiveFileOutputTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: devices, owners, setuid bits";
    testing::BuildTestTree(tmp_.path(), "top", &tree_);
    ASSERT_FALSE(HasFailure());
    for (const std::string& note : tree_.notes) std::cerr << "[ note ] " << note << "\n";
    if (!WithDeepPaths()) {
      // GNU tar 1.34 cannot create paths longer than PATH_MAX (ENAMETOOLONG): the branch of the
      // test tree that has them (and the hardlink into it) goes, and the times are set again.
      ASSERT_TRUE(RemoveTree(tree_.root + "/deep").ok());
      ASSERT_EQ(unlink((tree_.root + "/far_link").c_str()), 0);
      testing::StampTimes(tree_.root);
      ASSERT_FALSE(HasFailure());
    }
    ASSERT_TRUE(WriteArchive({tree_.root}, &sink_, nullptr, nullptr, &sent_, &sent_counters_).ok());
    ASSERT_EQ(mkdir(tmp_.Sub("out").c_str(), 0755), 0);
    ASSERT_EQ(mkdir(tmp_.Sub("restored").c_str(), 0755), 0);
  }

  // Stores the stream into path, checks the manifest and counters, commits.
  // The whole test tree, for tests that do not restore it with tar.
  virtual bool WithDeepPaths() const { return false; }

  void StoreAndCommit(const std::string& path) {
    std::unique_ptr<ArchiveFileOutput> output;
    WrittenFiles written;
    ExtractCounters counters;
    Status status = CreateAndStore(path, false, sink_.bytes, {"top"}, &written, &output, &counters);
    ASSERT_TRUE(status.ok()) << status.message();
    EXPECT_EQ(written, testing::WrittenOf(sent_));
    EXPECT_EQ(counters.entries_written.load(), sent_counters_.entries_written.load());
    EXPECT_EQ(counters.content_bytes_written.load(), sent_counters_.content_bytes_read.load());

    struct stat st;
    ASSERT_EQ(lstat(output->temp_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);  // private until complete
    EXPECT_FALSE(Exists(path));
    const std::string temp = output->temp_path();
    status = output->Commit(true);
    ASSERT_TRUE(status.ok()) << status.message();
    EXPECT_FALSE(Exists(temp));
    output.reset();
    EXPECT_TRUE(Exists(path));
  }

  void ExpectRestoresTree(const std::string& tar_flags, const std::string& path) {
    ASSERT_TRUE(Shell("tar " + tar_flags +
                      " --xattrs --xattrs-include='*' --acls --numeric-owner "
                      "--warning=no-unknown-keyword -xpf '" +
                      path + "' -C '" + tmp_.Sub("restored") + "'"));
    std::vector<std::string> diffs = testing::CompareTrees(tree_.root, tmp_.Sub("restored/top"));
    EXPECT_TRUE(diffs.empty()) << diffs.size() << " differences:\n" << DescribeDiffs(diffs);
  }

  TempDir tmp_;
  TestTree tree_;
  MemorySink sink_;
  Manifest sent_;
  ArchiveCounters sent_counters_;
};

TEST_F(ArchiveFileOutputTreeTest, ZstdFileRestoresTheTree) {
  const std::string path = tmp_.Sub("out/backup.tar.zst");
  StoreAndCommit(path);
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(Names(tmp_.Sub("out")), std::vector<std::string>{"backup.tar.zst"});
  EXPECT_TRUE(Shell("zstd -q -t '" + path + "'"));
  ExpectRestoresTree("--zstd", path);
  // A tee: the frame holds the stream byte for byte.
  ASSERT_TRUE(Shell("zstd -q -d -o '" + tmp_.Sub("stream.tar") + "' '" + path + "'"));
  EXPECT_TRUE(ReadFile(tmp_.Sub("stream.tar")) == sink_.bytes);
}

TEST_F(ArchiveFileOutputTreeTest, TarFileIsTheStreamAsIsAndRestoresTheTree) {
  const std::string path = tmp_.Sub("out/backup.tar");
  StoreAndCommit(path);
  ASSERT_FALSE(HasFailure());
  EXPECT_TRUE(ReadFile(path) == sink_.bytes);
  ExpectRestoresTree("", path);
}

class ArchiveFileOutputWholeTreeTest : public ArchiveFileOutputTreeTest {
 protected:
  bool WithDeepPaths() const override { return true; }
};

// The manifest is the extractor's, for the same stream: sparse files, hardlinks, empty files,
// paths beyond PATH_MAX.
TEST_F(ArchiveFileOutputWholeTreeTest, ManifestEqualsTheExtractors) {
  std::unique_ptr<ArchiveFileOutput> output;
  WrittenFiles stored;
  ASSERT_TRUE(
      CreateAndStore(tmp_.Sub("out/b.tzst"), false, sink_.bytes, {"top"}, &stored, &output).ok());

  ASSERT_EQ(mkdir(tmp_.Sub("staging").c_str(), 0700), 0);
  char* real = realpath(tmp_.Sub("staging").c_str(), nullptr);
  ExtractOptions options;
  options.staging_dir = real;
  free(real);
  options.top_names = {"top"};
  MemorySource source(sink_.bytes, 64 * 1024);
  WrittenFiles extracted;
  Status status = ExtractArchive(&source, options, nullptr, &extracted, nullptr);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(stored, extracted);
  if (tree_.sparse) {
    auto sparse = std::find_if(stored.begin(), stored.end(), [&](const WrittenFile& r) {
      return r.path == PathDigest(tree_.sparse_file);
    });
    ASSERT_NE(sparse, stored.end());
    EXPECT_EQ(sparse->size, 64u << 20);
  }
}

// The test tree is too small for a 2 MiB disk; so is its zstd file (most of it is random).
TEST_F(ArchiveFileOutputTreeTest, FullDiskFailsNamingTheFileAndLeavesNothing) {
  ASSERT_GT(sink_.bytes.size(), 6u << 20);
  for (const char* name : {"full.tar", "full.tar.zst"}) {
    SCOPED_TRACE(name);
    std::string error;
    auto disk = TmpfsMount::Mount(tmp_.Sub("out"), "size=2m,mode=0755", &error);
    ASSERT_NE(disk, nullptr) << error;
    std::unique_ptr<ArchiveFileOutput> output;
    WrittenFiles written;
    Status status =
        CreateAndStore(tmp_.Sub("out/") + name, false, sink_.bytes, {"top"}, &written, &output);
    EXPECT_EQ(status.code(), Code::kNoSpace);
    EXPECT_EQ(status.message(), "writing " + output->temp_path() + ": No space left on device");
    EXPECT_FALSE(output->Commit(false).ok());
    output.reset();
    EXPECT_TRUE(Names(tmp_.Sub("out")).empty());
  }
}

class ArchiveFileOutputTest : public ::testing::Test {
 protected:
  std::string SmallStream() {
    return PaxStreamBuilder().Dir("top").File("top/a", "alpha\n").File("top/b", "").Finish();
  }

  TempDir tmp_;
};

TEST_F(ArchiveFileOutputTest, RefusesUnknownSuffix) {
  for (const char* name : {"x.zip", "x.tar.gz", "x.zst", "x.tar.zst.part", "x", ".tar"}) {
    std::unique_ptr<ArchiveFileOutput> output;
    Status status = ArchiveFileOutput::Create(tmp_.Sub(name), false, &output);
    EXPECT_EQ(status.code(), Code::kInvalidArgument) << name;
    EXPECT_NE(status.message().find(tmp_.Sub(name)), std::string::npos) << status.message();
    EXPECT_EQ(output, nullptr);
  }
  EXPECT_TRUE(Names(tmp_.path()).empty());
}

TEST_F(ArchiveFileOutputTest, RefusesMissingDirectory) {
  std::unique_ptr<ArchiveFileOutput> output;
  const std::string path = tmp_.Sub("missing/x.tar.zst");
  Status status = ArchiveFileOutput::Create(path, false, &output);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find(path), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("No such file or directory"), std::string::npos);
}

TEST_F(ArchiveFileOutputTest, RefusesDirectoryThatTakesNoNewFiles) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: mount";
  ASSERT_EQ(mkdir(tmp_.Sub("ro").c_str(), 0755), 0);
  std::string error;
  auto disk = TmpfsMount::Mount(tmp_.Sub("ro"), "size=1m", &error, MS_RDONLY);
  ASSERT_NE(disk, nullptr) << error;
  std::unique_ptr<ArchiveFileOutput> output;
  const std::string path = tmp_.Sub("ro/x.tar");
  Status status = ArchiveFileOutput::Create(path, false, &output);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.message().rfind("creating " + path + ".xfer-partial-", 0), 0u)
      << status.message();
  EXPECT_NE(status.message().find("Read-only file system"), std::string::npos);
}

TEST_F(ArchiveFileOutputTest, TemporaryFileIsBesideThePathWithRandomSuffix) {
  std::unique_ptr<ArchiveFileOutput> first;
  std::unique_ptr<ArchiveFileOutput> second;
  const std::string path = tmp_.Sub("x.tar.zst");
  ASSERT_TRUE(ArchiveFileOutput::Create(path, false, &first).ok());
  ASSERT_TRUE(ArchiveFileOutput::Create(path, false, &second).ok());
  const std::string prefix = path + ".xfer-partial-";
  ASSERT_EQ(first->temp_path().rfind(prefix, 0), 0u) << first->temp_path();
  const std::string suffix = first->temp_path().substr(prefix.size());
  EXPECT_EQ(suffix.size(), 16u);
  EXPECT_EQ(suffix.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(first->temp_path(), second->temp_path());
  EXPECT_TRUE(Exists(first->temp_path()));
  first.reset();  // never stored: removed
  second.reset();
  EXPECT_TRUE(Names(tmp_.path()).empty());
}

TEST_F(ArchiveFileOutputTest, RefusesExistingPathWithoutOverwrite) {
  const std::string path = tmp_.Sub("x.tar");
  WriteFile(path, "old");
  std::unique_ptr<ArchiveFileOutput> output;
  Status status = ArchiveFileOutput::Create(path, false, &output);
  EXPECT_EQ(status.code(), Code::kExists);
  EXPECT_NE(status.message().find(path), std::string::npos) << status.message();
  EXPECT_EQ(ReadFile(path), "old");
  EXPECT_EQ(Names(tmp_.path()), std::vector<std::string>{"x.tar"});
}

TEST_F(ArchiveFileOutputTest, OverwriteReplacesOnlyAtCommit) {
  const std::string path = tmp_.Sub("x.tar");
  WriteFile(path, "old");
  const std::string stream = SmallStream();
  std::unique_ptr<ArchiveFileOutput> output;
  WrittenFiles written;
  ASSERT_TRUE(CreateAndStore(path, true, stream, {"top"}, &written, &output).ok());
  EXPECT_EQ(ReadFile(path), "old");
  ASSERT_TRUE(output->Commit(false).ok());
  EXPECT_TRUE(ReadFile(path) == stream);
  output.reset();
  EXPECT_EQ(Names(tmp_.path()), std::vector<std::string>{"x.tar"});
}

// Another process created the name after Create: never clobbered without overwrite.
TEST_F(ArchiveFileOutputTest, CommitDoesNotReplaceAFileCreatedMeanwhile) {
  const std::string path = tmp_.Sub("x.tar");
  std::unique_ptr<ArchiveFileOutput> output;
  WrittenFiles written;
  ASSERT_TRUE(CreateAndStore(path, false, SmallStream(), {"top"}, &written, &output).ok());
  WriteFile(path, "theirs");
  Status status = output->Commit(false);
  EXPECT_EQ(status.code(), Code::kExists);
  EXPECT_EQ(ReadFile(path), "theirs");
  output.reset();
  EXPECT_EQ(Names(tmp_.path()), std::vector<std::string>{"x.tar"});
}

TEST_F(ArchiveFileOutputTest, CommittedFileHasTheModeTarWouldGiveIt) {
  const mode_t old_mask = umask(027);
  std::unique_ptr<ArchiveFileOutput> output;
  WrittenFiles written;
  Status status =
      CreateAndStore(tmp_.Sub("x.tar.zst"), false, SmallStream(), {"top"}, &written, &output);
  if (status.ok()) status = output->Commit(false);
  umask(old_mask);
  ASSERT_TRUE(status.ok()) << status.message();
  struct stat st;
  ASSERT_EQ(stat(tmp_.Sub("x.tar.zst").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST_F(ArchiveFileOutputTest, StoresTheBytesAfterTheEndMarkerAndReadsToTheEnd) {
  const std::string stream = SmallStream() + std::string(10240, '\0');
  auto output = std::unique_ptr<ArchiveFileOutput>();
  ASSERT_TRUE(ArchiveFileOutput::Create(tmp_.Sub("x.tar"), false, &output).ok());
  MemorySource source(stream, 1000);
  WrittenFiles written;
  ASSERT_TRUE(output->Store(&source, {"top"}, nullptr, &written, nullptr).ok());
  EXPECT_TRUE(source.reached_end());
  ASSERT_TRUE(output->Commit(false).ok());
  EXPECT_TRUE(ReadFile(tmp_.Sub("x.tar")) == stream);
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0].path, PathDigest("top/a"));
  EXPECT_EQ(written[0].size, 6u);
  EXPECT_EQ(written[1].path, PathDigest("top/b"));
}

TEST_F(ArchiveFileOutputTest, StreamCutShortFailsAndLeavesNothing) {
  const std::string whole = PaxStreamBuilder()
                                .Dir("top")
                                .File("top/a", std::string(5000, 'a'))
                                .File("top/b", "b")
                                .Finish();
  // Mid-entry; between entries (no end marker at all); after the first of the marker's blocks.
  for (size_t cut : {size_t{3000}, whole.size() - 1024, whole.size() - 512}) {
    SCOPED_TRACE(cut);
    const std::string path = tmp_.Sub("x.tar.zst");
    std::unique_ptr<ArchiveFileOutput> output;
    WrittenFiles written;
    Status status = CreateAndStore(path, false, whole.substr(0, cut), {"top"}, &written, &output);
    EXPECT_EQ(status.code(), Code::kProtocol) << status.message();
    EXPECT_FALSE(output->Commit(true).ok());
    output.reset();
    EXPECT_TRUE(Names(tmp_.path()).empty());
  }
}

TEST_F(ArchiveFileOutputTest, RefusesEntryOutsideTopNames) {
  for (const std::string& stream : {PaxStreamBuilder().Dir("top").File("other/a", "x").Finish(),
                                    PaxStreamBuilder().Dir("top").File("/top/a", "x").Finish(),
                                    PaxStreamBuilder().Dir("top").File("top/../a", "x").Finish()}) {
    std::unique_ptr<ArchiveFileOutput> output;
    WrittenFiles written;
    Status status = CreateAndStore(tmp_.Sub("x.tar"), false, stream, {"top"}, &written, &output);
    EXPECT_EQ(status.code(), Code::kUnsafe) << status.message();
    EXPECT_NE(status.message().find("refusing entry"), std::string::npos) << status.message();
    output.reset();
    EXPECT_TRUE(Names(tmp_.path()).empty());
  }
}

TEST_F(ArchiveFileOutputTest, RefusesEntryThroughAStreamSymlink) {
  const std::string stream =
      PaxStreamBuilder().Dir("top").Symlink("top/l", "/etc").File("top/l/passwd", "x").Finish();
  std::unique_ptr<ArchiveFileOutput> output;
  WrittenFiles written;
  Status status = CreateAndStore(tmp_.Sub("x.tar"), false, stream, {"top"}, &written, &output);
  EXPECT_EQ(status.code(), Code::kUnsafe) << status.message();
  EXPECT_NE(status.message().find("symlink 'top/l'"), std::string::npos) << status.message();
}

TEST_F(ArchiveFileOutputTest, RefusesResumedEntry) {
  const std::string stream =
      PaxStreamBuilder()
          .Dir("top")
          .File("top/a", "rest",
                [](archive_entry* e) {
                  archive_entry_xattr_add_entry(e, std::string(kResumeXattr).c_str(), "4", 1);
                })
          .Finish();
  std::unique_ptr<ArchiveFileOutput> output;
  WrittenFiles written;
  Status status = CreateAndStore(tmp_.Sub("x.tar"), false, stream, {"top"}, &written, &output);
  EXPECT_EQ(status.code(), Code::kProtocol);
  EXPECT_NE(status.message().find("refusing entry 'top/a': it resumes"), std::string::npos)
      << status.message();
}

TEST_F(ArchiveFileOutputTest, StopsWhenCancelled) {
  CancelToken cancel;
  cancel.Cancel();
  std::unique_ptr<ArchiveFileOutput> output;
  WrittenFiles written;
  Status status = CreateAndStore(tmp_.Sub("x.tar"), false, SmallStream(), {"top"}, &written,
                                 &output, nullptr, &cancel);
  EXPECT_EQ(status.code(), Code::kCancelled);
  EXPECT_TRUE(written.empty());
}

TEST_F(ArchiveFileOutputTest, CommitNeedsACompleteStore) {
  std::unique_ptr<ArchiveFileOutput> output;
  ASSERT_TRUE(ArchiveFileOutput::Create(tmp_.Sub("x.tar"), false, &output).ok());
  EXPECT_FALSE(output->Commit(false).ok());
  EXPECT_FALSE(Exists(tmp_.Sub("x.tar")));
}

}  // namespace
}  // namespace xfer
