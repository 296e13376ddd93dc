// SummarizeArchiveFile and CopyArchiveFile on real archives (made by tar, zip and libarchive's
// writer): the stream CopyArchiveFile writes must extract (ExtractArchive) to the tree the
// archive holds, with a manifest that matches what was written and a summary that matches both.
#include "archive_file_source.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iostream>
#include <ostream>
#include <string>
#include <vector>

#include "archive_extractor.h"
#include "archive_handles.h"
#include "child_process.h"
#include "content_digest.h"
#include "memory_bytes.h"
#include "temp_dir.h"
#include "text_match.h"
#include "tree_builder.h"
#include "tree_compare.h"
#include "written_files.h"

namespace xfer {
namespace {

using testing::Contains;
using testing::DescribeDiffs;
using testing::MakeStaging;
using testing::MemorySink;
using testing::MemorySource;
using testing::PseudoRandom;
using testing::TempDir;
using testing::TestTree;
using testing::WriteFile;

constexpr char kTar[] = "/usr/bin/tar";
constexpr char kZip[] = "/usr/bin/zip";

// Runs a program to completion: "" when it succeeded, else what went wrong.
std::string RunProgram(const std::vector<std::string>& argv) {
  testing::ChildProcess child(argv);
  child.CloseStdin();
  int code = child.Wait();
  if (code == 0) return "";
  std::string line;
  for (const std::string& word : argv) line += word + " ";
  return line + "exited with " + std::to_string(code) + ": " + child.stderr_text();
}

Digest128 DigestOf(const std::string& content) {
  ContentDigest hasher;
  hasher.Update(content.data(), content.size());
  return hasher.Finish();
}

void SetTimes(const std::string& path, time_t seconds) {
  struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

// An entry for WriteTestArchive: what tar and zip will not write (absolute names, "..").
struct TestEntry {
  std::string path;
  mode_t type = AE_IFREG;
  std::string content;
  std::string hardlink;
};

void WriteTestArchive(const std::string& file, const std::vector<TestEntry>& entries) {
  ArchiveWritePtr writer(archive_write_new());
  ASSERT_EQ(archive_write_set_format_pax(writer.get()), ARCHIVE_OK);
  ASSERT_EQ(archive_write_open_filename(writer.get(), file.c_str()), ARCHIVE_OK);
  for (const TestEntry& test : entries) {
    ArchiveEntryPtr entry(archive_entry_new());
    archive_entry_copy_pathname(entry.get(), test.path.c_str());
    archive_entry_set_filetype(entry.get(), test.type);
    archive_entry_set_perm(entry.get(), test.type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_mtime(entry.get(), 1600000000, 0);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(test.content.size()));
    if (!test.hardlink.empty()) archive_entry_copy_hardlink(entry.get(), test.hardlink.c_str());
    ASSERT_EQ(archive_write_header(writer.get(), entry.get()), ARCHIVE_OK) << test.path;
    if (!test.content.empty()) {
      ASSERT_EQ(archive_write_data(writer.get(), test.content.data(), test.content.size()),
                static_cast<la_ssize_t>(test.content.size()));
    }
  }
  ASSERT_EQ(archive_write_close(writer.get()), ARCHIVE_OK);
}

// What one CopyArchiveFile run produced, and what its stream extracted to.
struct CopyResult {
  SourceSummary summary;
  Manifest sent;
  WrittenFiles written;
  uint64_t entries_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t entries_written = 0;
  uint64_t bytes_written = 0;
  std::string staging;
};

// Summarizes and copies the archive, then extracts the stream into a new staging directory.
void CopyAndExtract(const TempDir& tmp, const std::string& archive, int strip, CopyResult* result) {
  Status status = SummarizeArchiveFile(archive, strip, &result->summary);
  ASSERT_TRUE(status.ok()) << status.message();
  MemorySink sink;
  ArchiveCounters counters;
  status = CopyArchiveFile(archive, strip, &sink, nullptr, &result->sent, &counters);
  ASSERT_TRUE(status.ok()) << status.message();
  result->entries_sent = counters.entries_written.load();
  result->bytes_sent = counters.content_bytes_read.load();

  result->staging = MakeStaging(tmp);
  MemorySource source(sink.bytes);
  ExtractOptions options;
  options.staging_dir = result->staging;
  options.top_names = result->summary.top_names;
  ExtractCounters written;
  status = ExtractArchive(&source, options, nullptr, &result->written, &written);
  ASSERT_TRUE(status.ok()) << status.message();
  result->entries_written = written.entries_written.load();
  result->bytes_written = written.content_bytes_written.load();
}

// The summary announced what the stream then carried, and the receiver wrote what was sent.
void ExpectSummaryMatchesStream(const CopyResult& result) {
  const SourceSummary& summary = result.summary;
  EXPECT_EQ(testing::WrittenOf(result.sent), result.written);
  EXPECT_EQ(summary.files, result.sent.size());
  EXPECT_EQ(summary.entries, result.entries_sent);
  EXPECT_EQ(result.entries_sent, result.entries_written);
  uint64_t sizes = 0;
  for (const ManifestRecord& record : result.sent) sizes += record.size;
  EXPECT_EQ(summary.content_bytes, sizes);
  EXPECT_EQ(result.bytes_sent, sizes);
  EXPECT_EQ(result.bytes_written, sizes);
  uint64_t whole_blocks = 0;
  for (const ManifestRecord& record : result.sent) {
    whole_blocks += (record.size + 4095) / 4096 * 4096;
  }
  EXPECT_LE(summary.allocated_bytes, whole_blocks);  // holes are not counted
}

const ManifestRecord* FindRecord(const Manifest& manifest, const std::string& path) {
  for (const ManifestRecord& record : manifest) {
    if (record.path == path) return &record;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// tar, plain and compressed, of the full test tree: every kind of entry survives.

struct TarFlavor {
  const char* name;
  const char* flag;  // tar's compression option, or "" for none
  const char* extension;
};

void PrintTo(const TarFlavor& flavor, std::ostream* out) { *out << flavor.name; }

class ArchiveFileSourceTarTest : public ::testing::TestWithParam<TarFlavor> {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: devices, owners, setuid bits";
    testing::BuildTestTree(tmp_.path(), "top", &tree_);
    ASSERT_FALSE(HasFailure());
    for (const std::string& note : tree_.notes) std::cerr << "[ note ] " << note << "\n";
  }

  TempDir tmp_;
  TestTree tree_;
};

TEST_P(ArchiveFileSourceTarTest, StreamExtractsToTheArchivedTree) {
  const TarFlavor& flavor = GetParam();
  const std::string archive = tmp_.Sub(std::string("tree.tar") + flavor.extension);
  std::vector<std::string> argv = {
      kTar,       "--format=posix",  "--xattrs", "--xattrs-include=*", "--acls",
      "--sparse", "--numeric-owner", "-C",       tmp_.path(),          "-cf",
      archive};
  if (*flavor.flag != '\0') argv.push_back(flavor.flag);
  argv.push_back("top");
  ASSERT_EQ(RunProgram(argv), "");

  CopyResult result;
  CopyAndExtract(tmp_, archive, 0, &result);
  ASSERT_FALSE(HasFailure());

  std::vector<std::string> diffs = testing::CompareTrees(tree_.root, result.staging + "/top");
  EXPECT_TRUE(diffs.empty()) << diffs.size() << " differences:\n" << DescribeDiffs(diffs);
  EXPECT_EQ(result.summary.top_names, std::vector<std::string>{"top"});
  ExpectSummaryMatchesStream(result);
  // The digest is the content's, computed here independently of both sides.
  const ManifestRecord* small = FindRecord(result.sent, "top/small.txt");
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(small->digest, DigestOf(testing::ReadFile(tree_.root + "/small.txt")));
  // Three names of one inode: one file with data, two hardlinks without.
  EXPECT_NE(FindRecord(result.sent, "top/hard/one"), nullptr);
  int hard_records = 0;
  for (const ManifestRecord& record : result.sent) {
    if (record.path.rfind("top/hard/", 0) == 0) ++hard_records;
  }
  EXPECT_EQ(hard_records, 1);
  // The estimate of the space needed follows the sparse maps: what the files occupy here, give
  // or take a block each.
  SourceSummary on_disk;
  ASSERT_TRUE(SummarizeSources({tree_.root}, &on_disk).ok());
  EXPECT_LE(result.summary.allocated_bytes, on_disk.allocated_bytes + on_disk.files * 4096);
  EXPECT_GE(result.summary.allocated_bytes + on_disk.files * 4096, on_disk.allocated_bytes);
  if (tree_.sparse) {
    EXPECT_LT(result.summary.allocated_bytes, result.summary.content_bytes / 4);
  }
}

INSTANTIATE_TEST_SUITE_P(ArchiveFileSource, ArchiveFileSourceTarTest,
                         ::testing::Values(TarFlavor{"tar", "", ""}, TarFlavor{"gzip", "-z", ".gz"},
                                           TarFlavor{"zstd", "--zstd", ".zst"},
                                           TarFlavor{"xz", "-J", ".xz"}),
                         [](const ::testing::TestParamInfo<TarFlavor>& info) {
                           return std::string(info.param.name);
                         });

// ---------------------------------------------------------------------------------------------
// Smaller trees for names, stripping and zip.

class ArchiveFileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: owners";
  }

  // src/a/{x, b/{c/{file, hard}, d/, link}, e/f}: hard is a hardlink of c/file, link a symlink.
  void BuildSmallTree() {
    const std::string a = tmp_.Sub("src/a");
    ASSERT_EQ(mkdir(tmp_.Sub("src").c_str(), 0755), 0);
    for (const char* dir : {"", "/b", "/b/c", "/b/d", "/e"}) {
      ASSERT_EQ(mkdir((a + dir).c_str(), 0750), 0) << dir;
    }
    WriteFile(a + "/x", "two components\n");
    WriteFile(a + "/b/c/file", PseudoRandom(300000, 1));
    ASSERT_EQ(chmod((a + "/b/c/file").c_str(), 0604), 0);
    ASSERT_EQ(link((a + "/b/c/file").c_str(), (a + "/b/c/hard").c_str()), 0);
    ASSERT_EQ(symlink("c/file", (a + "/b/link").c_str()), 0);
    WriteFile(a + "/e/f", "");
    testing::StampTimes(a);
  }

  std::string TarSmallTree(const std::string& name, const std::vector<std::string>& extra) {
    std::string archive = tmp_.Sub(name);
    std::vector<std::string> argv = {kTar, "--format=posix", "-C", tmp_.Sub("src"), "-cf", archive};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("a");
    EXPECT_EQ(RunProgram(argv), "");
    return archive;
  }

  // Our stream, extracted, must hold what `tar --strip-components` extracts.
  void ExpectSameAsTarStrip(const std::string& archive, int strip,
                            const std::vector<std::string>& expected_tops) {
    CopyResult result;
    CopyAndExtract(tmp_, archive, strip, &result);
    ASSERT_FALSE(HasFailure());
    ExpectSummaryMatchesStream(result);

    const std::string reference = tmp_.Sub("reference" + std::to_string(strip));
    ASSERT_EQ(mkdir(reference.c_str(), 0700), 0);
    ASSERT_EQ(RunProgram({kTar, "--strip-components", std::to_string(strip), "-C", reference, "-xf",
                          archive}),
              "");
    std::vector<std::string> tops = result.summary.top_names;
    std::sort(tops.begin(), tops.end());
    EXPECT_EQ(tops, expected_tops);
    for (const std::string& top : expected_tops) {
      std::vector<std::string> diffs =
          testing::CompareTrees(reference + "/" + top, result.staging + "/" + top);
      EXPECT_TRUE(diffs.empty()) << top << ": " << diffs.size() << " differences:\n"
                                 << DescribeDiffs(diffs);
    }
  }

  TempDir tmp_;
};

TEST_F(ArchiveFileSourceTest, StripOneComponentMatchesTar) {
  BuildSmallTree();
  ASSERT_FALSE(HasFailure());
  std::string archive = TarSmallTree("small.tar", {});
  ExpectSameAsTarStrip(archive, 1, {"b", "e", "x"});
}

TEST_F(ArchiveFileSourceTest, StripTwoComponentsSkipsShorterEntriesAsTarDoes) {
  BuildSmallTree();
  ASSERT_FALSE(HasFailure());
  std::string archive = TarSmallTree("small.tar.zst", {"--zstd"});
  ExpectSameAsTarStrip(archive, 2, {"c", "d", "f", "link"});

  // a, a/x, a/b and a/e have no name left: 10 entries in the archive, 6 sent.
  SourceSummary summary;
  ASSERT_TRUE(SummarizeArchiveFile(archive, 2, &summary).ok());
  EXPECT_EQ(summary.entries, 6u);
  EXPECT_EQ(summary.files, 2u);  // c/file and f; c/hard is a hardlink
  EXPECT_EQ(summary.content_bytes, 300000u);
  EXPECT_EQ(summary.allocated_bytes, 303104u);  // 300000 rounded up to 4 KiB blocks
}

TEST_F(ArchiveFileSourceTest, HardlinkTargetsAreStrippedToo) {
  BuildSmallTree();
  ASSERT_FALSE(HasFailure());
  std::string archive = TarSmallTree("small.tar", {});
  CopyResult result;
  CopyAndExtract(tmp_, archive, 1, &result);
  ASSERT_FALSE(HasFailure());
  struct stat file_st, hard_st;
  ASSERT_EQ(lstat((result.staging + "/b/c/file").c_str(), &file_st), 0);
  ASSERT_EQ(lstat((result.staging + "/b/c/hard").c_str(), &hard_st), 0);
  EXPECT_EQ(file_st.st_ino, hard_st.st_ino);
  EXPECT_EQ(file_st.st_nlink, 2u);
}

TEST_F(ArchiveFileSourceTest, DotSlashNamesAreNormalized) {
  BuildSmallTree();
  ASSERT_FALSE(HasFailure());
  // `tar -C src/a .` names its entries "./", "./x", "./b", ...
  std::string archive = tmp_.Sub("dot.tar");
  ASSERT_EQ(RunProgram({kTar, "--format=posix", "-C", tmp_.Sub("src/a"), "-cf", archive, "."}), "");
  CopyResult result;
  CopyAndExtract(tmp_, archive, 0, &result);
  ASSERT_FALSE(HasFailure());
  std::vector<std::string> tops = result.summary.top_names;
  std::sort(tops.begin(), tops.end());
  EXPECT_EQ(tops, (std::vector<std::string>{"b", "e", "x"}));
  EXPECT_NE(FindRecord(result.sent, "b/c/file"), nullptr);
  ExpectSummaryMatchesStream(result);
  for (const std::string& top : tops) {
    std::vector<std::string> diffs =
        testing::CompareTrees(tmp_.Sub("src/a/" + top), result.staging + "/" + top);
    EXPECT_TRUE(diffs.empty()) << top << ":\n" << DescribeDiffs(diffs);
  }
}

TEST_F(ArchiveFileSourceTest, GnuSparseFileKeepsItsHoles) {
  // tar's default (gnu) format, whole-second times: the old GNU sparse headers.
  const std::string top = tmp_.Sub("ssrc/stop");
  ASSERT_EQ(mkdir(tmp_.Sub("ssrc").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(top.c_str(), 0755), 0);
  const std::string file = top + "/holes";
  int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  ASSERT_GE(fd, 0);
  const std::string data = PseudoRandom(64 * 1024, 11);
  ASSERT_EQ(pwrite(fd, data.data(), data.size(), 1 << 20), static_cast<ssize_t>(data.size()));
  ASSERT_EQ(pwrite(fd, data.data(), data.size(), 4 << 20), static_cast<ssize_t>(data.size()));
  ASSERT_EQ(ftruncate(fd, 8 << 20), 0);  // and a hole at the end
  close(fd);
  struct stat st;
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  if (st.st_blocks * 512 >= st.st_size) GTEST_SKIP() << "this filesystem does not keep holes";
  SetTimes(file, 1650000000);
  SetTimes(top, 1650000100);
  const std::string archive = tmp_.Sub("sparse.tar");
  ASSERT_EQ(RunProgram(
                {kTar, "--format=gnu", "--sparse", "-C", tmp_.Sub("ssrc"), "-cf", archive, "stop"}),
            "");

  CopyResult result;
  CopyAndExtract(tmp_, archive, 0, &result);
  ASSERT_FALSE(HasFailure());
  // CompareTrees fails a copy whose holes were filled.
  std::vector<std::string> diffs = testing::CompareTrees(top, result.staging + "/stop");
  EXPECT_TRUE(diffs.empty()) << diffs.size() << " differences:\n" << DescribeDiffs(diffs);
  ExpectSummaryMatchesStream(result);
  EXPECT_EQ(result.summary.content_bytes, uint64_t{8} << 20);
  EXPECT_EQ(result.summary.allocated_bytes, 2 * data.size());
}

TEST_F(ArchiveFileSourceTest, ResumeMarkInTheArchiveIsNotPassedOn) {
  // Only xfer itself may mark an entry as resumed (archive_metadata_digest.h); the receiver
  // refuses a marked entry it did not offer, so a passed-on mark would fail the transfer.
  const std::string archive = tmp_.Sub("marked.tar");
  ArchiveWritePtr writer(archive_write_new());
  ASSERT_EQ(archive_write_set_format_pax(writer.get()), ARCHIVE_OK);
  ASSERT_EQ(archive_write_open_filename(writer.get(), archive.c_str()), ARCHIVE_OK);
  ArchiveEntryPtr entry(archive_entry_new());
  archive_entry_copy_pathname(entry.get(), "top/f");
  archive_entry_set_filetype(entry.get(), AE_IFREG);
  archive_entry_set_perm(entry.get(), 0644);
  archive_entry_set_size(entry.get(), 6);
  archive_entry_xattr_add_entry(entry.get(), "xfer.resume", "3", 1);
  archive_entry_xattr_add_entry(entry.get(), "user.kept", "yes", 3);
  ASSERT_EQ(archive_write_header(writer.get(), entry.get()), ARCHIVE_OK);
  ASSERT_EQ(archive_write_data(writer.get(), "hello\n", 6), 6);
  ASSERT_EQ(archive_write_close(writer.get()), ARCHIVE_OK);

  CopyResult result;
  CopyAndExtract(tmp_, archive, 0, &result);
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(testing::ReadFile(result.staging + "/top/f"), "hello\n");
  char value[16] = {};
  ssize_t n = getxattr((result.staging + "/top/f").c_str(), "user.kept", value, sizeof(value));
  if (n >= 0) {  // where the filesystem takes user xattrs
    EXPECT_EQ(std::string(value, static_cast<size_t>(n)), "yes");
  }
}

TEST_F(ArchiveFileSourceTest, ZipKeepsContentModesTimesAndSymlinks) {
  if (access(kZip, X_OK) != 0) GTEST_SKIP() << "no zip program";
  // zip keeps whole seconds and no hardlinks: a tree that fits.
  const std::string top = tmp_.Sub("zsrc/ztop");
  ASSERT_EQ(mkdir(tmp_.Sub("zsrc").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(top.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((top + "/sub").c_str(), 0700), 0);
  WriteFile(top + "/sub/data.bin", PseudoRandom(200000, 7));
  WriteFile(top + "/run.sh", "#!/bin/sh\necho hi\n");
  ASSERT_EQ(chmod((top + "/run.sh").c_str(), 0750), 0);
  WriteFile(top + "/empty", "");
  ASSERT_EQ(symlink("sub/data.bin", (top + "/link").c_str()), 0);
  time_t t = 1650000000;
  for (const char* name : {"/sub/data.bin", "/run.sh", "/empty", "/link", "/sub", ""}) {
    SetTimes(top + name, t += 61);
  }
  ASSERT_FALSE(HasFailure());
  const std::string archive = tmp_.Sub("tree.zip");
  // Run in zsrc so that names start at ztop: zip has no -C. -y stores the symlink as one.
  ASSERT_EQ(RunProgram({"/bin/sh", "-c", "cd \"$0\" && exec /usr/bin/zip -q -r -y \"$1\" ztop",
                        tmp_.Sub("zsrc"), archive}),
            "");

  CopyResult result;
  CopyAndExtract(tmp_, archive, 0, &result);
  ASSERT_FALSE(HasFailure());
  std::vector<std::string> diffs = testing::CompareTrees(top, result.staging + "/ztop");
  EXPECT_TRUE(diffs.empty()) << diffs.size() << " differences:\n" << DescribeDiffs(diffs);
  EXPECT_EQ(result.summary.top_names, std::vector<std::string>{"ztop"});
  ExpectSummaryMatchesStream(result);
  EXPECT_EQ(result.summary.files, 3u);
}

// ---------------------------------------------------------------------------------------------
// Archives that must not be sent.

class ArchiveFileSourceRefusalTest : public ::testing::Test {
 protected:
  // Both passes fail alike, and the stream never starts.
  Status ExpectBothFail(const std::string& archive, int strip = 0) {
    SourceSummary summary;
    Status summarized = SummarizeArchiveFile(archive, strip, &summary);
    MemorySink sink;
    Manifest manifest;
    Status copied = CopyArchiveFile(archive, strip, &sink, nullptr, &manifest, nullptr);
    EXPECT_FALSE(summarized.ok());
    EXPECT_FALSE(copied.ok());
    EXPECT_EQ(summarized.code(), copied.code());
    EXPECT_EQ(summarized.message().find('\n'), std::string::npos) << summarized.message();
    return copied;
  }

  TempDir tmp_;
};

TEST_F(ArchiveFileSourceRefusalTest, RefusesEntryClimbingOutOfTheDestination) {
  const std::string archive = tmp_.Sub("b.tar");
  WriteTestArchive(archive, {{"top/ok", AE_IFREG, "fine\n", ""},
                             {"../etc/passwd", AE_IFREG, "root::0:0::/:/bin/sh\n", ""}});
  Status status = ExpectBothFail(archive);
  EXPECT_EQ(status.code(), Code::kUnsafe);
  EXPECT_EQ(status.message(),
            "archive " + archive + ": entry '../etc/passwd': path escapes the destination");
  // Stripping would remove the "..", but such an archive is refused whatever is stripped.
  EXPECT_EQ(ExpectBothFail(archive, 1).code(), Code::kUnsafe);
}

TEST_F(ArchiveFileSourceRefusalTest, RefusesAbsoluteEntry) {
  const std::string archive = tmp_.Sub("abs.tar");
  WriteTestArchive(archive, {{"/etc/cron.d/x", AE_IFREG, "* * * * * root true\n", ""}});
  Status status = ExpectBothFail(archive);
  EXPECT_EQ(status.code(), Code::kUnsafe);
  EXPECT_EQ(status.message(), "archive " + archive + ": entry '/etc/cron.d/x': path is absolute");
}

TEST_F(ArchiveFileSourceRefusalTest, RefusesHardlinkTargetOutsideTheArchive) {
  const std::string archive = tmp_.Sub("link.tar");
  WriteTestArchive(archive,
                   {{"top/f", AE_IFREG, "x", ""}, {"top/h", AE_IFREG, "", "../../etc/shadow"}});
  Status status = ExpectBothFail(archive);
  EXPECT_EQ(status.code(), Code::kUnsafe);
  EXPECT_TRUE(
      Contains(status.message(),
               "archive " + archive + ": entry 'top/h': hardlink target '../../etc/shadow'"));

  const std::string elsewhere = tmp_.Sub("elsewhere.tar");
  WriteTestArchive(elsewhere, {{"top/f", AE_IFREG, "x", ""}, {"top/h", AE_IFREG, "", "other/f"}});
  status = ExpectBothFail(elsewhere);
  EXPECT_TRUE(Contains(status.message(), "hardlink target 'other/f' is not an earlier entry"));
}

TEST_F(ArchiveFileSourceRefusalTest, RefusesHardlinkWhoseTargetWasStrippedAway) {
  // `tar -cf x.tar f top` with top/h a link of f: stripping one component leaves f no name.
  const std::string archive = tmp_.Sub("stripped-target.tar");
  WriteTestArchive(archive, {{"f", AE_IFREG, "hi\n", ""},
                             {"top", AE_IFDIR, "", ""},
                             {"top/h", AE_IFREG, "", "f"},
                             {"top/g", AE_IFREG, "g\n", ""}});
  Status status = ExpectBothFail(archive, 1);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(status.message(), "archive " + archive +
                                  ": entry 'top/h': hardlink target 'f' has no name left after "
                                  "stripping 1 path components");
  // Unstripped, the same archive is fine.
  SourceSummary summary;
  ASSERT_TRUE(SummarizeArchiveFile(archive, 0, &summary).ok());
  EXPECT_EQ(summary.top_names, (std::vector<std::string>{"f", "top"}));
  EXPECT_EQ(summary.entries, 4u);
  EXPECT_EQ(summary.files, 2u);
}

TEST_F(ArchiveFileSourceRefusalTest, RefusesEmptyComponent) {
  const std::string archive = tmp_.Sub("empty-component.tar");
  WriteTestArchive(archive, {{"top//f", AE_IFREG, "x", ""}});
  Status status = ExpectBothFail(archive);
  EXPECT_EQ(status.message(),
            "archive " + archive + ": entry 'top//f': path has an empty component");
}

TEST_F(ArchiveFileSourceRefusalTest, TruncatedGzipFailsNamingArchiveAndEntry) {
  ASSERT_EQ(mkdir(tmp_.Sub("db").c_str(), 0755), 0);
  WriteFile(tmp_.Sub("db/ibdata1"), PseudoRandom(4 << 20, 3));  // incompressible
  const std::string archive = tmp_.Sub("b.tar.gz");
  ASSERT_EQ(RunProgram({kTar, "-C", tmp_.path(), "-czf", archive, "db"}), "");
  struct stat st;
  ASSERT_EQ(stat(archive.c_str(), &st), 0);
  ASSERT_EQ(truncate(archive.c_str(), st.st_size / 2), 0);

  Status status = ExpectBothFail(archive);
  EXPECT_EQ(status.code(), Code::kCorrupt);
  EXPECT_TRUE(Contains(status.message(), "archive " + archive + ": entry 'db/ibdata1': "));
  SourceSummary summary;
  Status summarized = SummarizeArchiveFile(archive, 0, &summary);
  EXPECT_TRUE(
      Contains(summarized.message(), "archive " + archive + ": after entry 'db/ibdata1': "));
}

TEST_F(ArchiveFileSourceRefusalTest, GarbageFileFailsNamingArchive) {
  const std::string archive = tmp_.Sub("garbage.tar");
  WriteFile(archive, PseudoRandom(100000, 9));
  Status status = ExpectBothFail(archive);
  EXPECT_EQ(status.code(), Code::kCorrupt);
  EXPECT_EQ(status.message(), "archive " + archive + ": Unrecognized archive format");
}

TEST_F(ArchiveFileSourceRefusalTest, MissingFileFailsWithTheReason) {
  const std::string archive = tmp_.Sub("missing.tar");
  Status status = ExpectBothFail(archive);
  EXPECT_EQ(status.message(), "archive " + archive + ": No such file or directory");
}

TEST_F(ArchiveFileSourceRefusalTest, ArchiveWithNothingLeftAfterStrippingIsRefused) {
  const std::string archive = tmp_.Sub("shallow.tar");
  WriteTestArchive(archive, {{"top", AE_IFDIR, "", ""}, {"top/f", AE_IFREG, "x", ""}});
  Status status = ExpectBothFail(archive, 2);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_TRUE(Contains(status.message(), "holds no entries with more than 2 path components"));
}

// ---------------------------------------------------------------------------------------------

TEST(ArchiveFileSourceCancelTest, CancelStopsBetweenDataBlocks) {
  TempDir tmp;
  ASSERT_EQ(mkdir(tmp.Sub("top").c_str(), 0755), 0);
  WriteFile(tmp.Sub("top/big"), PseudoRandom(16 << 20, 5));
  const std::string archive = tmp.Sub("big.tar");
  ASSERT_EQ(RunProgram({kTar, "-C", tmp.path(), "-cf", archive, "top"}), "");

  CancelToken cancel;
  MemorySink sink;
  sink.on_write = [&](size_t total) {
    if (total > (1 << 20)) cancel.Cancel();
    return Status::Ok();
  };
  Manifest manifest;
  Status status = CopyArchiveFile(archive, 0, &sink, &cancel, &manifest, nullptr);
  EXPECT_EQ(status.code(), Code::kCancelled) << status.message();
  // Stopped within a block or two of the cancel, not at the end of the 16 MiB file.
  EXPECT_LT(sink.bytes.size(), size_t{4} << 20);
  EXPECT_TRUE(manifest.empty());
}

}  // namespace
}  // namespace xfer
