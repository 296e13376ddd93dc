#include "resume_journal.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "byte_codec.h"
#include "temp_dir.h"
#include "xxhash_dispatch.h"

namespace xfer {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

const std::vector<std::string> kNames = {"db", "logs"};

HeldFile File(const std::string& path, uint64_t size, uint64_t have) {
  return HeldFile{path, size, have, {size, have}, {have * 7, size * 13}};
}

// One record framed as the journal frames it, its checksum right whatever the payload says.
std::string Framed(uint8_t type, const std::string& payload) {
  ByteWriter w;
  w.U32(static_cast<uint32_t>(payload.size()));
  w.U8(type);
  w.str() += payload;
  w.U64(XXH3_64bits(w.str().data() + 4, 1 + payload.size()));
  return std::move(w.str());
}

std::string HeldPayload(const std::string& path, uint64_t size, uint64_t have) {
  ByteWriter w;
  w.Bytes(path);
  for (uint64_t v : {size, have, uint64_t{0}, uint64_t{0}, uint64_t{0}, uint64_t{0}}) w.U64(v);
  return std::move(w.str());
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return static_cast<uint64_t>(st.st_size);
}

class ResumeJournalTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = tmp_.Sub("x.journal"); }

  // A journal at path_ holding one Record() call per element of batches; closed again.
  void MakeJournal(const std::vector<std::vector<HeldFile>>& batches) {
    ResumeJournal journal;
    Status status = ResumeJournal::Create(path_, kNames, &journal);
    ASSERT_TRUE(status.ok()) << status.message();
    for (const std::vector<HeldFile>& batch : batches) {
      status = journal.Record(batch);
      ASSERT_TRUE(status.ok()) << status.message();
    }
  }

  // What Open reads of path_; the journal stays open in journal_.
  HeldFiles OpenHeld() {
    std::vector<std::string> names;
    HeldFiles held;
    Status status = ResumeJournal::Open(path_, &journal_, &names, &held);
    EXPECT_TRUE(status.ok()) << status.message();
    EXPECT_EQ(names, kNames);
    return held;
  }

  TempDir tmp_;
  std::string path_;
  ResumeJournal journal_;
};

TEST_F(ResumeJournalTest, OpenReadsNamesAndRecordedFiles) {
  const HeldFile complete = File("db/ibdata1", 1000, 1000);
  const HeldFile partial = File("db/big", 5000, 1234);
  MakeJournal({{complete}, {partial}});
  EXPECT_EQ(OpenHeld(), (HeldFiles{{complete.path, complete}, {partial.path, partial}}));
  EXPECT_TRUE(journal_.is_open());
}

TEST_F(ResumeJournalTest, CreateMakesPrivateFileWithMagic) {
  MakeJournal({});
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(ReadFile(path_).substr(0, 8), "XFERJNL2");
}

TEST_F(ResumeJournalTest, CreateRefusesExistingFile) {
  WriteFile(path_, "precious");
  ResumeJournal journal;
  Status status = ResumeJournal::Create(path_, kNames, &journal);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find(path_), std::string::npos) << status.message();
  EXPECT_EQ(ReadFile(path_), "precious");
  EXPECT_FALSE(journal.is_open());
}

TEST_F(ResumeJournalTest, CreateRefusesNamesBeyondOneRecordAndLeavesNoFile) {
  ResumeJournal journal;
  Status status = ResumeJournal::Create(
      path_, {std::string(600 << 10, 'a'), std::string(600 << 10, 'b')}, &journal);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(status.message(), "too many top-level names for resume journal " + path_);
  EXPECT_NE(access(path_.c_str(), F_OK), 0);
}

TEST_F(ResumeJournalTest, LastRecordOfAPathWins) {
  const HeldFile later = File("db/f", 100, 60);
  MakeJournal({{File("db/f", 100, 10), File("db/g", 5, 5)}, {later}});
  HeldFiles held = OpenHeld();
  EXPECT_EQ(held.size(), 2u);
  EXPECT_EQ(held["db/f"], later);
}

TEST_F(ResumeJournalTest, InvalidateStopsVouchingUntilRecordedAgain) {
  MakeJournal({{File("db/a", 10, 10), File("db/b", 20, 20)}});
  {
    OpenHeld();
    Status status = journal_.Invalidate("db/a");
    ASSERT_TRUE(status.ok()) << status.message();
    journal_ = ResumeJournal();
  }
  EXPECT_EQ(OpenHeld(), (HeldFiles{{"db/b", File("db/b", 20, 20)}}));
  ASSERT_TRUE(journal_.Record({File("db/a", 30, 3)}).ok());
  journal_ = ResumeJournal();
  EXPECT_EQ(OpenHeld().at("db/a"), File("db/a", 30, 3));
}

TEST_F(ResumeJournalTest, RecordRefusesWhatOpenCouldNotRead) {
  MakeJournal({});
  OpenHeld();
  EXPECT_EQ(journal_.Record({File("db/f", 10, 11)}).code(), Code::kInvalidArgument);
  EXPECT_EQ(journal_.Record({File("", 1, 1)}).code(), Code::kInvalidArgument);
  EXPECT_EQ(journal_.Invalidate(std::string((1 << 20) + 1, 'p')).code(), Code::kInvalidArgument);
  EXPECT_TRUE(journal_.Record({File("db/ok", 1, 1)}).ok());
}

// A crash mid-append leaves the last record cut anywhere: Open must give what came before, and
// what is recorded next must follow it, not the torn bytes.
TEST_F(ResumeJournalTest, TornTailAtEveryOffsetIsCutOff) {
  const HeldFile first = File("db/first", 10, 10);
  const HeldFile torn = File("db/torn", 20, 20);
  const HeldFile next = File("db/next", 30, 5);
  MakeJournal({{first}});
  const uint64_t good_size = FileSize(path_);
  {
    ResumeJournal journal;
    std::vector<std::string> names;
    HeldFiles held;
    ASSERT_TRUE(ResumeJournal::Open(path_, &journal, &names, &held).ok());
    ASSERT_TRUE(journal.Record({torn}).ok());
  }
  const std::string whole = ReadFile(path_);
  ASSERT_GT(whole.size(), good_size);
  for (size_t cut = good_size; cut < whole.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    WriteFile(path_, whole.substr(0, cut));
    EXPECT_EQ(OpenHeld(), (HeldFiles{{first.path, first}}));
    EXPECT_EQ(FileSize(path_), good_size);
    ASSERT_TRUE(journal_.Record({next}).ok());
    journal_ = ResumeJournal();
    EXPECT_EQ(OpenHeld(), (HeldFiles{{first.path, first}, {next.path, next}}));
    journal_ = ResumeJournal();
  }
}

TEST_F(ResumeJournalTest, BadChecksumDropsThatRecordAndAllAfter) {
  const HeldFile first = File("db/first", 10, 10);
  MakeJournal({{first}});
  const uint64_t good_size = FileSize(path_);
  uint64_t second_end = 0;
  {
    ResumeJournal journal;
    std::vector<std::string> names;
    HeldFiles held;
    ASSERT_TRUE(ResumeJournal::Open(path_, &journal, &names, &held).ok());
    ASSERT_TRUE(journal.Record({File("db/second", 20, 20)}).ok());
    second_end = FileSize(path_);
    ASSERT_TRUE(journal.Record({File("db/third", 30, 30)}).ok());
  }
  std::string bytes = ReadFile(path_);
  bytes[second_end - 1] ^= 0x01;  // the last byte of the second record's checksum
  WriteFile(path_, bytes);
  EXPECT_EQ(OpenHeld(), (HeldFiles{{first.path, first}}));
  EXPECT_EQ(FileSize(path_), good_size);
}

// An intact record that does not parse can only come from a bug or another format: everything
// from it on is dropped like a torn tail, never half-applied.
TEST_F(ResumeJournalTest, RecordThatDoesNotParseEndsTheJournal) {
  const HeldFile first = File("db/first", 10, 10);
  MakeJournal({{first}});
  const std::string good = ReadFile(path_);
  ByteWriter second_header;
  second_header.U32(1);
  second_header.Bytes("db");
  for (const std::string& bad :
       {Framed(9, ""), Framed(1, second_header.str()), Framed(2, HeldPayload("db/x", 5, 6)),
        Framed(2, HeldPayload("", 5, 5)), Framed(2, HeldPayload("db/x", 5, 5) + "extra"),
        Framed(3, HeldPayload("db/first", 1, 1))}) {
    WriteFile(path_, good + bad + Framed(2, HeldPayload("db/after", 1, 1)));
    EXPECT_EQ(OpenHeld(), (HeldFiles{{first.path, first}}));
    EXPECT_EQ(FileSize(path_), good.size());
    journal_ = ResumeJournal();
  }
}

TEST_F(ResumeJournalTest, HugeLengthFieldIsATornTailNotAnAllocation) {
  const HeldFile first = File("db/first", 10, 10);
  MakeJournal({{first}});
  WriteFile(path_, ReadFile(path_) + std::string("\xff\xff\xff\xff\x02", 5) + "junk");
  EXPECT_EQ(OpenHeld(), (HeldFiles{{first.path, first}}));
}

// The reader's buffer holds 64 KiB at a time: records across its edges and one larger than it.
TEST_F(ResumeJournalTest, ReadsJournalLargerThanItsBuffer) {
  std::vector<HeldFile> many;
  for (int i = 0; i < 3000; ++i)
    many.push_back(File("db/" + std::string(60, 'f') + std::to_string(i), i, i));
  const HeldFile long_path = File("db/" + std::string(200 << 10, 'l'), 1, 1);
  MakeJournal({many, {long_path}, many});
  HeldFiles held = OpenHeld();
  EXPECT_EQ(held.size(), many.size() + 1);
  EXPECT_EQ(held.at(many.back().path), many.back());
  EXPECT_EQ(held.at(long_path.path), long_path);
}

// flock belongs to the open file description: a second open() in this process conflicts too.
TEST_F(ResumeJournalTest, OpenFailsWhileAnotherHoldsTheLock) {
  ResumeJournal creator;
  ASSERT_TRUE(ResumeJournal::Create(path_, kNames, &creator).ok());
  ResumeJournal second;
  std::vector<std::string> names;
  HeldFiles held;
  Status status = ResumeJournal::Open(path_, &second, &names, &held);
  EXPECT_EQ(status.code(), Code::kExists);
  EXPECT_EQ(status.message(), "resume journal " + path_ + " is in use by another receiver");
  EXPECT_FALSE(second.is_open());
  creator = ResumeJournal();  // closing releases the lock
  EXPECT_TRUE(ResumeJournal::Open(path_, &second, &names, &held).ok());
}

TEST_F(ResumeJournalTest, ReadNamesNeedsNoLock) {
  ResumeJournal creator;
  ASSERT_TRUE(ResumeJournal::Create(path_, kNames, &creator).ok());
  std::vector<std::string> names;
  Status status = ResumeJournal::ReadNames(path_, &names);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(names, kNames);
}

// A journal of protocol 1 ("XFERJNL1") holds content digests of the old kind: not adopted.
TEST_F(ResumeJournalTest, RefusesFilesThatAreNotJournals) {
  MakeJournal({});
  const std::string journal = ReadFile(path_);
  for (const std::string& content :
       {std::string(), std::string("garbage that is not a journal"), "XFERJNL1" + journal.substr(8),
        "XFERJNL3" + journal.substr(8)}) {
    WriteFile(path_, content);
    std::vector<std::string> names;
    Status status = ResumeJournal::ReadNames(path_, &names);
    EXPECT_EQ(status.code(), Code::kCorrupt);
    EXPECT_EQ(status.message(), path_ + " is not a resume journal");
    ResumeJournal opened;
    HeldFiles held;
    EXPECT_EQ(ResumeJournal::Open(path_, &opened, &names, &held).message(),
              path_ + " is not a resume journal");
  }
}

TEST_F(ResumeJournalTest, RefusesJournalWithoutIntactHeader) {
  MakeJournal({});
  const std::string created = ReadFile(path_);
  for (const std::string& content :
       {created.substr(0, 12),
        "XFERJNL2" + Framed(2, HeldPayload("db/a", 1, 1)) + created.substr(8)}) {
    WriteFile(path_, content);
    std::vector<std::string> names;
    Status status = ResumeJournal::ReadNames(path_, &names);
    EXPECT_EQ(status.code(), Code::kCorrupt);
    EXPECT_EQ(status.message(), "resume journal " + path_ + " has no intact header");
  }
}

// A write cut short leaves a torn record, and Open reads nothing after it: a later record, an
// invalidation above all, must be refused rather than appended where it would be lost.
TEST_F(ResumeJournalTest, RefusesRecordsAfterAFailedWrite) {
  const HeldFile first = File("db/first", 10, 10);
  MakeJournal({{first}});
  OpenHeld();
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit low = saved;
  low.rlim_cur = FileSize(path_) + 10;
  sighandler_t old_handler = signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &low), 0);
  Status failed = journal_.Record({File("db/" + std::string(100, 'x'), 1, 1)});
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
  signal(SIGXFSZ, old_handler);
  // The write is cut short; writing the rest says why (on a full disk: no space left).
  EXPECT_EQ(failed.message(), "writing " + path_ + ": File too large");
  Status refused = journal_.Invalidate(first.path);
  EXPECT_EQ(refused.code(), Code::kIoError);
  EXPECT_EQ(refused.message(), "resume journal " + path_ + " failed an earlier write");
  journal_ = ResumeJournal();
  EXPECT_EQ(OpenHeld(), (HeldFiles{{first.path, first}}));
}

TEST_F(ResumeJournalTest, RefusesSymlinkAndFifo) {
  MakeJournal({});
  std::vector<std::string> names;
  ASSERT_EQ(symlink(path_.c_str(), tmp_.Sub("link").c_str()), 0);
  EXPECT_FALSE(ResumeJournal::ReadNames(tmp_.Sub("link"), &names).ok());
  ASSERT_EQ(mkfifo(tmp_.Sub("fifo").c_str(), 0600), 0);
  EXPECT_EQ(ResumeJournal::ReadNames(tmp_.Sub("fifo"), &names).code(), Code::kCorrupt);
}

}  // namespace
}  // namespace xfer
