// ArchiveFileOutput: a received pax stream stored as a .tar / .tar.zst file that tar restores,
// with the manifest the extractor would have produced, and nothing left behind on failure.
#include "archive_file_output.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "archive_extractor.h"
#include "archive_metadata_digest.h"
#include "archive_source.h"
#include "temp_dir.h"
#include "tree_builder.h"
#include "tree_compare.h"
#include "tree_prune.h"

namespace xfer {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::TestTree;
using testing::WriteFile;

class MemorySink : public ByteSink {
 public:
  std::string bytes;
  Status Write(const void* data, size_t len) override {
    bytes.append(static_cast<const char*>(data), len);
    return Status::Ok();
  }
};

// Hands out the bytes in pieces of an awkward size, so headers and blocks straddle pieces; then
// len 0, for good.
class MemorySource : public ByteSource {
 public:
  MemorySource(const std::string& bytes, size_t piece) : bytes_(bytes), piece_(piece) {}
  Status Next(const void** data, size_t* len) override {
    *len = std::min(piece_, bytes_.size() - offset_);
    *data = bytes_.data() + offset_;
    offset_ += *len;
    if (*len == 0) reached_end_ = true;
    return Status::Ok();
  }
  bool reached_end() const { return reached_end_; }

 private:
  const std::string& bytes_;
  size_t piece_;
  size_t offset_ = 0;
  bool reached_end_ = false;
};

// Builds a small pax stream with libarchive's writer: what WriteArchive never produces.
class StreamBuilder {
 public:
  StreamBuilder() : archive_(archive_write_new()) {
    archive_write_set_format_pax(archive_);
    archive_write_set_bytes_per_block(archive_, 0);
    archive_write_open2(archive_, this, nullptr, &StreamBuilder::Write, nullptr, nullptr);
  }
  ~StreamBuilder() { archive_write_free(archive_); }

  StreamBuilder& Dir(const std::string& path) { return Add(path, AE_IFDIR, ""); }
  StreamBuilder& File(const std::string& path, const std::string& content,
                      const std::function<void(archive_entry*)>& extra = nullptr) {
    return Add(path, AE_IFREG, content, extra);
  }
  StreamBuilder& Symlink(const std::string& path, const std::string& target) {
    return Add(path, AE_IFLNK, "",
               [&](archive_entry* e) { archive_entry_copy_symlink(e, target.c_str()); });
  }
  std::string Finish() {
    archive_write_close(archive_);
    return bytes_;
  }

 private:
  StreamBuilder& Add(const std::string& path, mode_t type, const std::string& content,
                     const std::function<void(archive_entry*)>& extra = nullptr) {
    archive_entry* e = archive_entry_new();
    archive_entry_copy_pathname(e, path.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    archive_entry_set_mtime(e, 1600000000, 0);
    if (extra) extra(e);
    EXPECT_EQ(archive_write_header(archive_, e), ARCHIVE_OK) << archive_error_string(archive_);
    if (!content.empty()) archive_write_data(archive_, content.data(), content.size());
    archive_entry_free(e);
    return *this;
  }

  static la_ssize_t Write(archive*, void* self, const void* data, size_t len) {
    static_cast<StreamBuilder*>(self)->bytes_.append(static_cast<const char*>(data), len);
    return static_cast<la_ssize_t>(len);
  }

  archive* archive_;
  std::string bytes_;
};

// A tmpfs on a directory for one test, unmounted whatever the outcome (as tests/faults does).
class TmpfsOn {
 public:
  TmpfsOn(const std::string& dir, const std::string& options, unsigned long flags = 0) : dir_(dir) {
    mounted_ =
        mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | flags, options.c_str()) == 0;
  }
  ~TmpfsOn() {
    if (mounted_) umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::string dir_;
  bool mounted_ = false;
};

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

std::string Describe(const std::vector<std::string>& diffs) {
  std::string out;
  for (const std::string& diff : diffs) out += "  " + diff + "\n";
  return out;
}

constexpr size_t kOddPiece = 7 * 1024 + 3;

// Create + Store in one go; the output stays open (uncommitted) in *out.
Status CreateAndStore(const std::string& path, bool overwrite, const std::string& stream,
                      const std::vector<std::string>& top_names, Manifest* written,
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
    Manifest written;
    ExtractCounters counters;
    Status status = CreateAndStore(path, false, sink_.bytes, {"top"}, &written, &output, &counters);
    ASSERT_TRUE(status.ok()) << status.message();
    EXPECT_EQ(written, sent_);
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
    EXPECT_TRUE(diffs.empty()) << diffs.size() << " differences:\n" << Describe(diffs);
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
  Manifest stored;
  ASSERT_TRUE(
      CreateAndStore(tmp_.Sub("out/b.tzst"), false, sink_.bytes, {"top"}, &stored, &output).ok());

  ASSERT_EQ(mkdir(tmp_.Sub("staging").c_str(), 0700), 0);
  char* real = realpath(tmp_.Sub("staging").c_str(), nullptr);
  ExtractOptions options;
  options.staging_dir = real;
  free(real);
  options.top_names = {"top"};
  MemorySource source(sink_.bytes, 64 * 1024);
  Manifest extracted;
  Status status = ExtractArchive(&source, options, nullptr, &extracted, nullptr);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(stored, extracted);
  if (tree_.sparse) {
    auto sparse = std::find_if(stored.begin(), stored.end(), [&](const ManifestRecord& r) {
      return r.path == tree_.sparse_file;
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
    TmpfsOn disk(tmp_.Sub("out"), "size=2m,mode=0755");
    ASSERT_TRUE(disk.mounted());
    std::unique_ptr<ArchiveFileOutput> output;
    Manifest written;
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
    return StreamBuilder().Dir("top").File("top/a", "alpha\n").File("top/b", "").Finish();
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
  TmpfsOn disk(tmp_.Sub("ro"), "size=1m", MS_RDONLY);
  ASSERT_TRUE(disk.mounted());
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
  Manifest written;
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
  Manifest written;
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
  Manifest written;
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
  Manifest written;
  ASSERT_TRUE(output->Store(&source, {"top"}, nullptr, &written, nullptr).ok());
  EXPECT_TRUE(source.reached_end());
  ASSERT_TRUE(output->Commit(false).ok());
  EXPECT_TRUE(ReadFile(tmp_.Sub("x.tar")) == stream);
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0].path, "top/a");
  EXPECT_EQ(written[0].size, 6u);
  EXPECT_EQ(written[1].path, "top/b");
}

TEST_F(ArchiveFileOutputTest, StreamCutShortFailsAndLeavesNothing) {
  const std::string whole =
      StreamBuilder().Dir("top").File("top/a", std::string(5000, 'a')).File("top/b", "b").Finish();
  // Mid-entry; between entries (no end marker at all); after the first of the marker's blocks.
  for (size_t cut : {size_t{3000}, whole.size() - 1024, whole.size() - 512}) {
    SCOPED_TRACE(cut);
    const std::string path = tmp_.Sub("x.tar.zst");
    std::unique_ptr<ArchiveFileOutput> output;
    Manifest written;
    Status status = CreateAndStore(path, false, whole.substr(0, cut), {"top"}, &written, &output);
    EXPECT_EQ(status.code(), Code::kProtocol) << status.message();
    EXPECT_FALSE(output->Commit(true).ok());
    output.reset();
    EXPECT_TRUE(Names(tmp_.path()).empty());
  }
}

TEST_F(ArchiveFileOutputTest, RefusesEntryOutsideTopNames) {
  for (const std::string& stream : {StreamBuilder().Dir("top").File("other/a", "x").Finish(),
                                    StreamBuilder().Dir("top").File("/top/a", "x").Finish(),
                                    StreamBuilder().Dir("top").File("top/../a", "x").Finish()}) {
    std::unique_ptr<ArchiveFileOutput> output;
    Manifest written;
    Status status = CreateAndStore(tmp_.Sub("x.tar"), false, stream, {"top"}, &written, &output);
    EXPECT_EQ(status.code(), Code::kUnsafe) << status.message();
    EXPECT_NE(status.message().find("refusing entry"), std::string::npos) << status.message();
    output.reset();
    EXPECT_TRUE(Names(tmp_.path()).empty());
  }
}

TEST_F(ArchiveFileOutputTest, RefusesEntryThroughAStreamSymlink) {
  const std::string stream =
      StreamBuilder().Dir("top").Symlink("top/l", "/etc").File("top/l/passwd", "x").Finish();
  std::unique_ptr<ArchiveFileOutput> output;
  Manifest written;
  Status status = CreateAndStore(tmp_.Sub("x.tar"), false, stream, {"top"}, &written, &output);
  EXPECT_EQ(status.code(), Code::kUnsafe) << status.message();
  EXPECT_NE(status.message().find("symlink 'top/l'"), std::string::npos) << status.message();
}

TEST_F(ArchiveFileOutputTest, RefusesResumedEntry) {
  const std::string stream =
      StreamBuilder()
          .Dir("top")
          .File("top/a", "rest",
                [](archive_entry* e) {
                  archive_entry_xattr_add_entry(e, std::string(kResumeXattr).c_str(), "4", 1);
                })
          .Finish();
  std::unique_ptr<ArchiveFileOutput> output;
  Manifest written;
  Status status = CreateAndStore(tmp_.Sub("x.tar"), false, stream, {"top"}, &written, &output);
  EXPECT_EQ(status.code(), Code::kProtocol);
  EXPECT_NE(status.message().find("refusing entry 'top/a': it resumes"), std::string::npos)
      << status.message();
}

TEST_F(ArchiveFileOutputTest, StopsWhenCancelled) {
  CancelToken cancel;
  cancel.Cancel();
  std::unique_ptr<ArchiveFileOutput> output;
  Manifest written;
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
