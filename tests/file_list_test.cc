// `xfer-send --files-from`: WriteFileList into memory, ExtractArchive from it, and exactly the
// listed paths (and their parents) must arrive, with their metadata; every refusal names the
// list and the line.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "archive_extractor.h"
#include "archive_metadata_digest.h"
#include "archive_source.h"
#include "archive_source_list.h"
#include "archive_source_walk.h"
#include "content_digest.h"
#include "entry_marks.h"
#include "memory_bytes.h"
#include "temp_dir.h"
#include "tree_builder.h"
#include "tree_compare.h"
#include "written_files.h"

namespace xfer {
namespace {

using testing::MemorySink;
using testing::MemorySource;
using testing::TempDir;
using testing::WriteFile;

// What the stream holds, entry by entry, read back with libarchive.
struct StreamEntry {
  std::string path;
  mode_t type = 0;
  std::string hardlink;  // target, for a hardlink entry
  std::string symlink;
  bool resumed = false;  // carries kResumeXattr
  Digest128 meta;        // MetadataDigest, as the receiver would compute it
};

std::vector<StreamEntry> ReadStream(const std::string& bytes) {
  std::vector<StreamEntry> entries;
  struct archive* reader = archive_read_new();
  archive_read_support_format_tar(reader);
  EXPECT_EQ(archive_read_open_memory(reader, bytes.data(), bytes.size()), ARCHIVE_OK);
  struct archive_entry* entry = nullptr;
  while (archive_read_next_header(reader, &entry) == ARCHIVE_OK) {
    StreamEntry e;
    e.path = archive_entry_pathname(entry);
    if (e.path.size() > 1 && e.path.back() == '/') e.path.pop_back();  // pax marks directories
    e.type = archive_entry_filetype(entry);
    if (archive_entry_hardlink(entry) != nullptr) e.hardlink = archive_entry_hardlink(entry);
    if (archive_entry_symlink(entry) != nullptr) e.symlink = archive_entry_symlink(entry);
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    archive_entry_xattr_reset(entry);
    while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
      e.resumed = e.resumed || kResumeXattr == name;
    }
    e.meta = MetadataDigest(entry);
    entries.push_back(std::move(e));
    archive_read_data_skip(reader);
  }
  archive_read_free(reader);
  return entries;
}

std::vector<std::string> Paths(const std::vector<StreamEntry>& entries) {
  std::vector<std::string> paths;
  for (const StreamEntry& e : entries) paths.push_back(e.path);
  return paths;
}

void MakeDir(const std::string& path, mode_t mode) {
  ASSERT_EQ(mkdir(path.c_str(), mode), 0) << path << ": " << strerror(errno);
  ASSERT_EQ(chmod(path.c_str(), mode), 0);  // past the umask
}

class FileListTest : public ::testing::Test {
 protected:
  // src/ db/ (a, b, sub/ (x, y)), other/ z, t; distinct modes, owners and nanosecond mtimes.
  void SetUp() override {
    src_ = tmp_.Sub("src");
    MakeDir(src_, 0755);
    MakeDir(src_ + "/db", 0750);
    WriteFile(src_ + "/db/a", "alpha");
    WriteFile(src_ + "/db/b", "beta");
    MakeDir(src_ + "/db/sub", 0701);
    WriteFile(src_ + "/db/sub/x", "ex");
    WriteFile(src_ + "/db/sub/y", "why");
    MakeDir(src_ + "/other", 0755);
    WriteFile(src_ + "/other/z", "zed");
    WriteFile(src_ + "/t", "top file");
    if (geteuid() == 0) {
      ASSERT_EQ(lchown((src_ + "/db").c_str(), 1234, 5678), 0);
      ASSERT_EQ(lchown((src_ + "/db/sub").c_str(), 42, 43), 0);
    }
    list_path_ = tmp_.Sub("list.txt");
  }

  // Writes content as the list file and reads it as the sender does, based at src_.
  FileList List(const std::string& content, bool nul_separated = false) {
    WriteFile(list_path_, content);
    FileList list;
    Status status = ReadFileList(list_path_, nul_separated, &list);
    EXPECT_TRUE(status.ok()) << status.message();
    list.base_dir = src_;
    return list;
  }

  // Summarizes and writes the list, as the sender does.
  Status Send(const FileList& list, const HeldFiles* held = nullptr) {
    sink_.bytes.clear();
    sent_.clear();
    XFER_RETURN_IF_ERROR(SummarizeFileList(list, &summary_));
    return WriteFileList(list, &sink_, nullptr, held, &sent_, &counters_);
  }

  // Extracts what Send wrote into a new staging directory and returns its path.
  std::string Extract() {
    std::string staging = testing::MakeStaging(tmp_);
    MemorySource source(sink_.bytes);
    ExtractOptions options{staging, summary_.top_names};
    WrittenFiles written;
    Status status = ExtractArchive(&source, options, nullptr, &written, nullptr);
    EXPECT_TRUE(status.ok()) << status.message();
    EXPECT_EQ(written, testing::WrittenOf(sent_));
    return staging;
  }

  // The refusal's message, which SummarizeFileList and WriteFileList must both give.
  std::string Refusal(const FileList& list) {
    SourceSummary summary;
    Status summarized = SummarizeFileList(list, &summary);
    MemorySink sink;
    Manifest sent;
    Status written = WriteFileList(list, &sink, nullptr, nullptr, &sent, nullptr);
    EXPECT_FALSE(summarized.ok());
    EXPECT_EQ(summarized.message(), written.message());
    EXPECT_EQ(summarized.code(), written.code());
    return summarized.message();
  }

  std::string Line(int line) {
    return "files-from " + list_path_ + " line " + std::to_string(line) + ": ";
  }

  TempDir tmp_;
  std::string src_;
  std::string list_path_;
  SourceSummary summary_;
  MemorySink sink_;
  Manifest sent_;
  ArchiveCounters counters_;
};

TEST_F(FileListTest, SendsExactlyTheListedPathsAndTheirParents) {
  testing::StampTimes(src_);
  Status status = Send(List("db/a\ndb/sub/x\nt\n"));
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(Paths(ReadStream(sink_.bytes)),
            (std::vector<std::string>{"db", "db/a", "db/sub", "db/sub/x", "t"}));
  EXPECT_EQ(summary_.top_names, (std::vector<std::string>{"db", "t"}));
  EXPECT_EQ(summary_.entries, 5u);
  EXPECT_EQ(summary_.files, 3u);
  EXPECT_EQ(summary_.content_bytes, 5u + 2u + 8u);
  EXPECT_EQ(counters_.entries_written.load(), 5u);
  ASSERT_EQ(sent_.size(), 3u);
  EXPECT_EQ(sent_[0].path, "db/a");

  std::string staging = Extract();
  // Everything that arrived is identical to its source (modes, owners, mtimes of the unlisted
  // parents db and db/sub included); what was not listed did not arrive.
  EXPECT_EQ(testing::CompareTrees(src_ + "/db", staging + "/db"),
            (std::vector<std::string>{"db/b: only in first tree", "db/sub/y: only in first tree"}));
  EXPECT_TRUE(testing::CompareTrees(src_ + "/t", staging + "/t").empty());
  struct stat st;
  EXPECT_NE(lstat((staging + "/other").c_str(), &st), 0);
}

TEST_F(FileListTest, NulSeparatedListKeepsNewlinesInNames) {
  WriteFile(src_ + "/we\nird", "1");
  WriteFile(src_ + "/sp ace", "22");
  Status status = Send(List(std::string("we\nird\0sp ace\0", 14), true));
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(Paths(ReadStream(sink_.bytes)), (std::vector<std::string>{"sp ace", "we\nird"}));
  EXPECT_EQ(summary_.top_names, (std::vector<std::string>{"we\nird", "sp ace"}));
  std::string staging = Extract();
  EXPECT_EQ(testing::ReadFile(staging + "/we\nird"), "1");
}

TEST_F(FileListTest, NewlineListSplitsAtNewlinesAndKeepsCarriageReturns) {
  WriteFile(src_ + "/a\r", "with cr");
  WriteFile(src_ + "/a", "without");
  Status status = Send(List("a\r\nt"));  // the last name needs no newline
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(Paths(ReadStream(sink_.bytes)), (std::vector<std::string>{"a\r", "t"}));
}

TEST_F(FileListTest, ReadsTheListFromStdin) {
  int saved_stdin = dup(STDIN_FILENO);
  ASSERT_GE(saved_stdin, 0);
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const std::string content = "db/sub/y\nother/z\n";
  ASSERT_EQ(write(pipe_fds[1], content.data(), content.size()),
            static_cast<ssize_t>(content.size()));
  close(pipe_fds[1]);
  ASSERT_EQ(dup2(pipe_fds[0], STDIN_FILENO), STDIN_FILENO);
  close(pipe_fds[0]);
  FileList list;
  Status status = ReadFileList("-", false, &list);
  dup2(saved_stdin, STDIN_FILENO);
  close(saved_stdin);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(list.origin, "stdin");
  EXPECT_EQ(list.names, (std::vector<std::string>{"db/sub/y", "other/z"}));

  list.base_dir = src_;
  status = Send(list);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(Paths(ReadStream(sink_.bytes)),
            (std::vector<std::string>{"db", "db/sub", "db/sub/y", "other", "other/z"}));
  list.names.push_back("nope");
  EXPECT_EQ(Refusal(list), "files-from stdin line 3: nope: No such file or directory");
}

TEST_F(FileListTest, DuplicatesAreSentOnce) {
  Status status = Send(List("t\n./t\nt/\n.//t\ndb/a\ndb//a\n"));
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(Paths(ReadStream(sink_.bytes)), (std::vector<std::string>{"db", "db/a", "t"}));
  EXPECT_EQ(summary_.top_names, (std::vector<std::string>{"t", "db"}));
  EXPECT_EQ(summary_.entries, 3u);
  EXPECT_EQ(sent_.size(), 2u);
}

TEST_F(FileListTest, NamesAreNormalized) {
  Status status = Send(List("./db//sub/\n"));
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(Paths(ReadStream(sink_.bytes)), (std::vector<std::string>{"db", "db/sub"}));
}

TEST_F(FileListTest, ListedDirectoryIsSentWithoutItsContent) {
  testing::StampTimes(src_);
  Status status = Send(List("db/sub\n"));
  ASSERT_TRUE(status.ok()) << status.message();
  std::vector<StreamEntry> entries = ReadStream(sink_.bytes);
  EXPECT_EQ(Paths(entries), (std::vector<std::string>{"db", "db/sub"}));
  EXPECT_TRUE(sent_.empty());
  std::string staging = Extract();
  EXPECT_EQ(
      testing::CompareTrees(src_ + "/db", staging + "/db"),
      (std::vector<std::string>{"db/a: only in first tree", "db/b: only in first tree",
                                "db/sub/x: only in first tree", "db/sub/y: only in first tree"}));
}

TEST_F(FileListTest, StreamIsInWalkOrderWhateverTheListOrder) {
  WriteFile(src_ + "/db.txt", "after db/ and its content");
  Status status = Send(List("t\ndb.txt\ndb/sub/x\ndb/b\ndb\n"));
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(Paths(ReadStream(sink_.bytes)),
            (std::vector<std::string>{"db", "db/b", "db/sub", "db/sub/x", "db.txt", "t"}));
  EXPECT_EQ(summary_.top_names, (std::vector<std::string>{"t", "db.txt", "db"}));
  std::string first = sink_.bytes;
  ASSERT_TRUE(Send(List("db\ndb/b\ndb/sub/x\ndb.txt\nt\n")).ok());
  EXPECT_TRUE(first == sink_.bytes);
}

TEST_F(FileListTest, TheBaseDirectoryItselfIsSkipped) {
  // `find . -print0` starts with ".".
  Status status = Send(List(std::string(".\0./t\0", 7), true));
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(Paths(ReadStream(sink_.bytes)), (std::vector<std::string>{"t"}));
  EXPECT_EQ(summary_.top_names, (std::vector<std::string>{"t"}));
}

TEST_F(FileListTest, BaseDefaultsToTheWorkingDirectory) {
  int saved_cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(saved_cwd, 0);
  ASSERT_EQ(chdir(src_.c_str()), 0);
  FileList list = List("other/z\n");
  list.base_dir = "";
  Status status = Send(list);
  ASSERT_EQ(fchdir(saved_cwd), 0);
  close(saved_cwd);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(Paths(ReadStream(sink_.bytes)), (std::vector<std::string>{"other", "other/z"}));
}

TEST_F(FileListTest, SymlinksAreSentAsSymlinks) {
  ASSERT_EQ(symlink("db", (src_ + "/to-db").c_str()), 0);
  Status status = Send(List("to-db/\n"));  // a trailing slash does not make it followed
  ASSERT_TRUE(status.ok()) << status.message();
  std::vector<StreamEntry> entries = ReadStream(sink_.bytes);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].path, "to-db");
  EXPECT_EQ(entries[0].type, AE_IFLNK);
  EXPECT_EQ(entries[0].symlink, "db");
  std::string staging = Extract();
  EXPECT_TRUE(testing::CompareTrees(src_ + "/to-db", staging + "/to-db").empty());
}

TEST_F(FileListTest, HardlinksAmongListedFilesAreKept) {
  ASSERT_EQ(link((src_ + "/db/a").c_str(), (src_ + "/other/a-too").c_str()), 0);
  Status status = Send(List("other/a-too\ndb/a\n"));
  ASSERT_TRUE(status.ok()) << status.message();
  std::vector<StreamEntry> entries = ReadStream(sink_.bytes);
  ASSERT_EQ(Paths(entries), (std::vector<std::string>{"db", "db/a", "other", "other/a-too"}));
  EXPECT_EQ(entries[3].hardlink, "db/a");
  EXPECT_EQ(sent_.size(), 1u);
  EXPECT_EQ(summary_.files, 1u);
  std::string staging = Extract();
  struct stat a, a_too;
  ASSERT_EQ(lstat((staging + "/db/a").c_str(), &a), 0);
  ASSERT_EQ(lstat((staging + "/other/a-too").c_str(), &a_too), 0);
  EXPECT_EQ(a.st_ino, a_too.st_ino);
}

TEST_F(FileListTest, SocketsAreSkipped) {
  for (const std::string& path : {src_ + "/sock", src_ + "/db/sock"}) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(path.size(), sizeof addr.sun_path);
    memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << strerror(errno);
    close(fd);
  }
  Status status = Send(List("sock\ndb/sock\nt\n"));
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(Paths(ReadStream(sink_.bytes)), (std::vector<std::string>{"db", "t"}));
  // Announcing the top-level socket would make the receiver look for it at commit.
  EXPECT_EQ(summary_.top_names, (std::vector<std::string>{"db", "t"}));
  EXPECT_EQ(summary_.entries, 2u);
  // Only the summary can tell: the stream of nothing is an empty archive.
  EXPECT_EQ(SummarizeFileList(List("sock\n"), &summary_).message(),
            "files-from " + list_path_ + ": the list names nothing to send");
}

TEST_F(FileListTest, ListingEveryPathOfATreeGivesTheTreesStream) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: devices, owners";
  testing::TestTree tree;
  testing::BuildTestTree(tmp_.path(), "top", &tree);
  ASSERT_FALSE(HasFailure());
  std::vector<SourceTop> tops;
  ASSERT_TRUE(ResolveSourceTops({tree.root}, &tops).ok());
  std::vector<std::string> paths;
  ASSERT_TRUE(WalkSources(tops, nullptr, [&](const WalkEntry& walked) {
                paths.push_back(walked.path);
                return Status::Ok();
              }).ok());
  std::reverse(paths.begin(), paths.end());  // the list's order must not matter
  FileList list;
  list.names = paths;
  list.base_dir = tmp_.path();
  list.origin = "test";

  MemorySink tree_sink;
  Manifest tree_sent;
  ASSERT_TRUE(WriteArchive({tree.root}, &tree_sink, nullptr, nullptr, &tree_sent, nullptr).ok());
  Status status = Send(list);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_TRUE(sink_.bytes == tree_sink.bytes);
  EXPECT_EQ(sent_, tree_sent);
  SourceSummary tree_summary;
  ASSERT_TRUE(SummarizeSources({tree.root}, &tree_summary).ok());
  EXPECT_EQ(summary_.top_names, tree_summary.top_names);
  EXPECT_EQ(summary_.entries, tree_summary.entries);
  EXPECT_EQ(summary_.files, tree_summary.files);
  EXPECT_EQ(summary_.content_bytes, tree_summary.content_bytes);
  EXPECT_EQ(summary_.allocated_bytes, tree_summary.allocated_bytes);
}

TEST_F(FileListTest, ResumeSkipsWhatTheReceiverHolds) {
  const std::string big(1 << 20, 'q');
  WriteFile(src_ + "/db/big", big);
  FileList list = List("db/big\ndb/a\n");
  ASSERT_TRUE(Send(list).ok());
  const Manifest whole = sent_;
  const size_t whole_size = sink_.bytes.size();
  std::vector<StreamEntry> entries = ReadStream(sink_.bytes);
  ASSERT_EQ(Paths(entries), (std::vector<std::string>{"db", "db/a", "db/big"}));

  HeldFiles held;
  HeldFile& file = held["db/big"];
  file.path = "db/big";
  file.size = big.size();
  file.have = big.size() / 2;  // a prefix: its bytes are read and checked before being skipped
  file.meta = entries[2].meta;
  ContentDigest hasher;
  hasher.Update(big.data(), file.have);
  file.content = hasher.Finish();

  Status status = Send(list, &held);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(counters_.resumed_files.load(), 1u);
  EXPECT_EQ(counters_.resumed_bytes.load(), big.size() / 2);
  EXPECT_LT(sink_.bytes.size(), whole_size - big.size() / 4);
  EXPECT_TRUE(ReadStream(sink_.bytes)[2].resumed);
  EXPECT_EQ(sent_, whole);  // the manifest still digests the whole file
}

TEST_F(FileListTest, RefusesAbsoluteNames) {
  EXPECT_EQ(Refusal(List("t\n\n/etc/passwd\n")),
            Line(3) +
                "/etc/passwd: absolute names are refused: names are relative to the base "
                "directory");
}

TEST_F(FileListTest, RefusesDotDotComponents) {
  EXPECT_EQ(Refusal(List("t\ndb/../../etc\n")),
            Line(2) + "db/../../etc: '..' components are refused");
  EXPECT_EQ(Refusal(List("..\n")), Line(1) + "..: '..' components are refused");
}

TEST_F(FileListTest, RefusesMissingNames) {
  FileList list = List("db/a\n\ndb/x.ibd\n");
  EXPECT_EQ(Refusal(list), Line(3) + "db/x.ibd: No such file or directory");
  EXPECT_EQ(Refusal(List("t\nnodir/x.ibd\n")), Line(2) + "nodir/x.ibd: No such file or directory");
}

TEST_F(FileListTest, RefusesNamesThroughASymlink) {
  ASSERT_EQ(symlink("db", (src_ + "/to-db").c_str()), 0);
  EXPECT_EQ(Refusal(List("t\nto-db/a\n")),
            Line(2) + "to-db/a: to-db is a symlink, which is not followed");
  // Listing the symlink itself does not change that.
  EXPECT_EQ(Refusal(List("to-db\nto-db/sub/x\n")),
            Line(2) + "to-db/sub/x: to-db is a symlink, which is not followed");
}

TEST_F(FileListTest, RefusesNamesUnderAFile) {
  EXPECT_EQ(Refusal(List("t/x\n")), Line(1) + "t/x: Not a directory");
}

TEST_F(FileListTest, RefusesAListThatNamesNothing) {
  const std::string nothing = "files-from " + list_path_ + ": the list names nothing to send";
  EXPECT_EQ(Refusal(List("")), nothing);
  EXPECT_EQ(Refusal(List("\n\n./\n.\n")), nothing);
  EXPECT_EQ(Refusal(List(std::string("\0\0", 2), true)), nothing);
}

TEST_F(FileListTest, RefusesANulByteInANewlineList) {
  EXPECT_EQ(Refusal(List(std::string("t\nd\0b\n", 6))), Line(2) + "d\\x00b: contains a NUL byte");
}

TEST_F(FileListTest, RefusesAMissingListOrBase) {
  FileList list;
  Status status = ReadFileList(tmp_.Sub("no-list"), false, &list);
  EXPECT_EQ(status.message(), "files-from " + tmp_.Sub("no-list") + ": No such file or directory");
  list = List("t\n");
  list.base_dir = tmp_.Sub("no-base");
  EXPECT_EQ(Refusal(list), "files-from " + list_path_ + ": base directory " + tmp_.Sub("no-base") +
                               ": No such file or directory");
}

TEST_F(FileListTest, CancellationStopsTheWalk) {
  CancelToken cancel;
  cancel.Cancel();
  MemorySink sink;
  Manifest sent;
  EXPECT_EQ(WriteFileList(List("t\n"), &sink, &cancel, nullptr, &sent, nullptr).code(),
            Code::kCancelled);
  EXPECT_TRUE(sent.empty());
}

}  // namespace
}  // namespace xfer
