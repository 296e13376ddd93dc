// Resuming end to end: the real programs on loopback, a transfer interrupted (the connection cut
// by a proxy, the receiver killed with SIGKILL), then the same command run again: resuming is
// the default, --no-resume starts over.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <regex>

#include "json_number.h"
#include "program_paths.h"
#include "tcp_proxy.h"
#include "temp_dir.h"
#include "tmpfs_mount.h"
#include "transfer_harness.h"
#include "tree_builder.h"
#include "tree_compare.h"

namespace xfer::testing {
namespace {

constexpr uint64_t kMiB = 1 << 20;

enum class Fault { kCut, kKillReceiver };

class ResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mkdir(src_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir(dst_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((src_ + "/data").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((src_ + "/data/sub").c_str(), 0750), 0);
    for (int i = 0; i < 8; ++i) {
      WriteRandomFile(src_ + "/data/sub/part" + std::to_string(i), 3 * kMiB, 10 + i);
    }
    WriteRandomFile(src_ + "/data/big.bin", 24 * kMiB, 3);
    WriteFile(src_ + "/data/small.txt", "small\n");
    ASSERT_EQ(symlink("small.txt", (src_ + "/data/link").c_str()), 0);
  }

  // A transfer (with the default flags) of `paths` to dst through a proxy that cuts the
  // connection, or kills the receiver, once `at` bytes went from the sender to it. Both sides
  // must fail, and nothing new may appear in dst but what the receiver keeps to resume. Returns
  // what the receiver said on stderr.
  std::string Interrupt(Fault fault, uint64_t at,
                        const std::vector<std::string>& sender_args = {}) {
    std::string ticket;
    auto receiver = StartReceiver(dst_, {}, &ticket);
    ChildProcess* target = receiver.get();
    std::atomic<bool> fired{false};
    TcpProxy proxy(static_cast<uint16_t>(std::stoi(ticket.substr(6))),
                   [&](uint64_t offset, uint8_t*, size_t len) {
                     if (offset + len < at) return true;
                     if (fault == Fault::kKillReceiver && !fired.exchange(true)) {
                       target->Kill(SIGKILL);
                     }
                     return fault != Fault::kCut;
                   });
    auto sender = StartSender(TicketWithPort(ticket, proxy.port()), {src_ + "/data"}, sender_args);
    EXPECT_NE(sender->Wait(), 0) << "the interrupted sender succeeded";
    EXPECT_NE(receiver->Wait(), 0) << "the interrupted receiver succeeded";
    EXPECT_EQ(ListDirIgnoringStaging(dst_), std::vector<std::string>{});
    EXPECT_FALSE(ListDir(dst_).empty()) << "the receiver kept nothing to resume";
    return receiver->stderr_text();
  }

  // The same command run again to the end (default flags: it resumes); returns the receiver's
  // and the sender's result lines.
  std::pair<std::string, std::string> Resume(const std::vector<std::string>& receiver_args = {},
                                             const std::vector<std::string>& sender_args = {}) {
    std::string ticket;
    auto receiver = StartReceiver(dst_, receiver_args, &ticket);
    auto sender = StartSender(ticket, {src_ + "/data"}, sender_args);
    EXPECT_EQ(sender->Wait(), 0) << sender->stderr_text();
    EXPECT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
    EXPECT_EQ(CompareTrees(src_ + "/data", dst_ + "/data"), std::vector<std::string>{});
    EXPECT_EQ(ListDir(dst_), std::vector<std::string>{"data"}) << "staging or journal left";
    return {receiver->ReadStdoutLine(), sender->ReadStdoutLine()};
  }

  uint64_t Total() const { return 48 * kMiB + 6; }

  TempDir tmp_;
  std::string src_ = tmp_.Sub("src");
  std::string dst_ = tmp_.Sub("dst");
};

// The run that resumes writes what it keeps as it writes the rest: a setuid file held from a
// run that restored owners and setuid bits loses both under --no-same-owner --no-setuid.
TEST_F(ResumeTest, AFileHeldWholeTakesTheOwnerAndModeOfTheRunThatResumes) {
  if (geteuid() != 0) GTEST_SKIP() << "giving a file away needs root";
  const std::string suid = src_ + "/data/a-suid";  // first in the stream: held whole
  WriteFile(suid, "#!/bin/sh\n");
  ASSERT_EQ(chown(suid.c_str(), 65534, 65534), 0);
  ASSERT_EQ(chmod(suid.c_str(), 06755), 0);
  Interrupt(Fault::kCut, Total() * 3 / 4, {"--no-compress"});
  std::string ticket;
  auto receiver = StartReceiver(dst_, {"--no-same-owner", "--no-setuid"}, &ticket);
  auto sender = StartSender(ticket, {src_ + "/data"}, {});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  std::string received = receiver->ReadStdoutLine();
  EXPECT_GT(JsonNumber(received, "resumed_files"), 0u) << received;
  struct stat st;
  ASSERT_EQ(lstat((dst_ + "/data/a-suid").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_gid, 0u);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
}

TEST_F(ResumeTest, ACutTransferResumesWithoutSendingWhatArrived) {
  Interrupt(Fault::kCut, Total() * 3 / 4, {"--no-compress"});
  auto [received, sent] = Resume();
  uint64_t resumed = JsonNumber(received, "resumed_bytes");
  // What was in flight when the cut came (socket buffers, chunks being decoded) is lost, the
  // rest was recorded when the receiver failed.
  EXPECT_GT(resumed, Total() / 3) << received;
  EXPECT_LT(resumed, Total());
  EXPECT_EQ(JsonNumber(sent, "resumed_bytes"), resumed) << sent;
  EXPECT_LT(JsonNumber(received, "wire_bytes"), Total() - resumed + 4 * kMiB) << received;
}

TEST_F(ResumeTest, AFileCutHalfwayResumesFromItsVerifiedPrefix) {
  ASSERT_EQ(
      system(("rm -r " + src_ + "/data/sub " + src_ + "/data/small.txt " + src_ + "/data/link")
                 .c_str()),
      0);
  Interrupt(Fault::kCut, 16 * kMiB, {"--no-compress"});
  auto [received, sent] = Resume();
  EXPECT_EQ(JsonNumber(received, "resumed_files"), 1u) << received;
  uint64_t resumed = JsonNumber(received, "resumed_bytes");
  EXPECT_GT(resumed, 4 * kMiB) << received;
  EXPECT_LT(resumed, 24 * kMiB) << received;
}

// libarchive's pax reader lists each xattr of a received entry twice (its writer names it as
// LIBARCHIVE.xattr and as SCHILY.xattr): the receiver's digest of the entry's metadata never
// matched the sender's, and a file with xattrs travelled whole again, held or not.
TEST_F(ResumeTest, AFileWithXattrsResumesFromItsVerifiedPrefix) {
  ASSERT_EQ(
      system(("rm -r " + src_ + "/data/sub " + src_ + "/data/small.txt " + src_ + "/data/link")
                 .c_str()),
      0);
  static const char kBinary[] = {'v', '\0', '\xff'};
  ASSERT_EQ(setxattr((src_ + "/data/big.bin").c_str(), "user.kept", kBinary, sizeof kBinary, 0), 0)
      << strerror(errno);
  Interrupt(Fault::kCut, 16 * kMiB, {"--no-compress"});
  auto [received, sent] = Resume();  // compares the trees, xattrs included
  EXPECT_EQ(JsonNumber(received, "resumed_files"), 1u) << received;
  EXPECT_GT(JsonNumber(received, "resumed_bytes"), 4 * kMiB) << received;
}

// A file held whole is announced again as an entry without data (a sparse map of one hole): under
// a path longer than a ustar name, libarchive named such an entry by the truncated name, and
// every later resume was refused ("it resumes a file this receiver does not hold").
TEST_F(ResumeTest, AFileHeldUnderALongPathResumes) {
  std::string deep = src_ + "/data/a";  // first in the walk: held by the time of the cut
  ASSERT_EQ(mkdir(deep.c_str(), 0755), 0);
  for (int i = 0; i < 12; ++i) {
    deep += "/" + std::string(100, static_cast<char>('a' + i));
    ASSERT_EQ(mkdir(deep.c_str(), 0755), 0);
  }
  WriteFile(deep + "/leaf", "leaf\n");
  Interrupt(Fault::kCut, Total() * 3 / 4, {"--no-compress"});
  auto [received, sent] = Resume();
  EXPECT_GE(JsonNumber(received, "resumed_files"), 2u) << received;
}

TEST_F(ResumeTest, AReceiverKilledWithSigkillResumesFromItsLastCheckpoint) {
  // At 16 MiB/s the kill comes after two seconds: the receiver recorded at least once.
  Interrupt(Fault::kKillReceiver, Total() * 2 / 3, {"--no-compress", "--limit-rate", "16M"});
  auto [received, sent] = Resume();
  EXPECT_GT(JsonNumber(received, "resumed_bytes"), 8 * kMiB) << received;
}

TEST_F(ResumeTest, WhatChangedAtTheSourceMeanwhileIsSentAgain) {
  Interrupt(Fault::kCut, Total() * 95 / 100, {"--no-compress"});
  std::string data = src_ + "/data";
  ASSERT_EQ(chmod((data + "/sub/part1").c_str(), 0600), 0);
  WriteRandomFile(data + "/sub/part3", 3 * kMiB, 98);  // a new mtime
  ASSERT_EQ(unlink((data + "/sub/part2").c_str()), 0);
  WriteFile(data + "/sub/new.txt", "new\n");
  auto [received, sent] = Resume();  // compares the trees
  EXPECT_GT(JsonNumber(received, "resumed_bytes"), 0u) << received;
  EXPECT_LT(JsonNumber(received, "resumed_files"), 8u) << received;
}

TEST_F(ResumeTest, ChangedBytesBehindAnUnchangedMtimeFailOnceThenTravel) {
  Interrupt(Fault::kCut, Total() * 95 / 100, {"--no-compress"});
  std::string part0 = src_ + "/data/sub/part0";
  struct stat before;
  ASSERT_EQ(stat(part0.c_str(), &before), 0);
  WriteRandomFile(part0, 3 * kMiB, 99);
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, part0.c_str(), times, 0), 0);
  // Only reading finds it: the manifest check does, and nothing is committed.
  std::string ticket;
  auto receiver = StartReceiver(dst_, {}, &ticket);
  auto sender = StartSender(ticket, {src_ + "/data"}, {});
  EXPECT_EQ(sender->Wait(), 1);
  EXPECT_EQ(receiver->Wait(), 1);
  EXPECT_NE(receiver->stderr_text().find("checksum mismatch for data/sub/part0 (held from the "
                                         "interrupted transfer, it changed at the source"),
            std::string::npos)
      << receiver->stderr_text();
  EXPECT_EQ(ListDirIgnoringStaging(dst_), std::vector<std::string>{});
  Resume();  // compares the trees: part0 travelled
}

TEST_F(ResumeTest, ResumedFilesKeepEveryKindOfMetadata) {
  TestTree tree;
  BuildTestTree(src_ + "/data", "tree", &tree);
  Interrupt(Fault::kCut, Total() * 95 / 100, {"--no-compress"});
  auto [received, sent] = Resume();  // compares owners, modes, times, xattrs, ACLs, links, holes
  EXPECT_GT(JsonNumber(received, "resumed_files"), 5u) << received;
}

// Every corner of the round-trip tree (xattrs, ACLs, hardlinks, holes, odd names, paths over
// 4 KiB), held whole when the cut comes, is kept rather than sent again.
TEST_F(ResumeTest, EveryKindOfFileHeldWholeIsKept) {
  ASSERT_EQ(system(("rm -r " + src_ + "/data/sub " + src_ + "/data/big.bin").c_str()), 0);
  TestTree tree;
  BuildTestTree(src_ + "/data", "tree", &tree);
  // Last in the stream's order (bytewise by name): the cut comes in it, after the whole tree.
  WriteRandomFile(src_ + "/data/zzz.bin", 24 * kMiB, 5);
  Interrupt(Fault::kCut, 20 * kMiB, {"--no-compress"});
  auto [received, sent] = Resume();  // compares the trees
  // All but the empty file, which holds nothing to keep; zzz.bin from its prefix.
  EXPECT_EQ(JsonNumber(received, "resumed_files"), JsonNumber(received, "files") - 1) << received;
}

// The receiver's verdict says what it kept, where, and how to continue.
TEST_F(ResumeTest, AFailedReceiverSaysWhatItKeptAndHowToContinue) {
  std::string said = Interrupt(Fault::kCut, Total() / 2, {"--no-compress"});
  std::smatch kept;
  ASSERT_TRUE(std::regex_search(
      said, kept,
      std::regex("xfer-recv: error: .*; ([0-9.]+) MB kept on /.*/\\.xfer-staging-[0-9a-f]+ "
                 "\\(([0-9]+) files\\); run the same command "
                 "again to continue")))
      << said;
  EXPECT_GT(std::stod(kept[1]), 1.0) << said;
  EXPECT_GT(std::stoull(kept[2]), 0u) << said;
}

TEST_F(ResumeTest, ExplicitResumeIsStillAccepted) {
  Interrupt(Fault::kCut, Total() * 3 / 4, {"--no-compress"});
  auto [received, sent] = Resume({"--resume"}, {"--resume"});
  EXPECT_GT(JsonNumber(received, "resumed_bytes"), 0u) << received;
}

// --no-resume on either side starts over, and the receiver says, in one line, what it discarded.
TEST_F(ResumeTest, NoResumeOnTheSenderDiscardsWhatWasKeptAndSaysHowMuch) {
  Interrupt(Fault::kCut, Total() / 2, {"--no-compress"});
  std::string ticket;
  auto receiver = StartReceiver(dst_, {}, &ticket);
  auto sender = StartSender(ticket, {src_ + "/data"}, {"--no-resume"});
  EXPECT_EQ(sender->Wait(), 0) << sender->stderr_text();
  EXPECT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  EXPECT_EQ(CompareTrees(src_ + "/data", dst_ + "/data"), std::vector<std::string>{});
  EXPECT_EQ(ListDir(dst_), std::vector<std::string>{"data"}) << "staging or journal left";
  std::string received = receiver->ReadStdoutLine();
  EXPECT_EQ(JsonNumber(received, "resumed_bytes"), 0u) << received;
  EXPECT_GT(JsonNumber(received, "discarded_bytes"), 0u) << received;
  EXPECT_TRUE(std::regex_search(
      receiver->stderr_text(),
      std::regex("xfer-recv: discarding [0-9.]+ MB \\([0-9]+ files\\) kept from an interrupted "
                 "transfer into " +
                 dst_ + " \\(the sender does not resume\\)\n")))
      << receiver->stderr_text();
}

TEST_F(ResumeTest, NoResumeOnTheReceiverDiscardsWhatWasKept) {
  Interrupt(Fault::kCut, Total() / 2, {"--no-compress"});
  auto [received, sent] = Resume({"--no-resume"}, {});
  EXPECT_EQ(JsonNumber(received, "resumed_bytes"), 0u) << received;
  EXPECT_GT(JsonNumber(received, "discarded_bytes"), 0u) << received;
}

TEST_F(ResumeTest, PreflightCountsWhatAnInterruptedTransferLeft) {
  std::string error;
  auto disk = TmpfsMount::Mount(dst_, "size=64m", &error);
  if (!disk) GTEST_SKIP() << error;
  Interrupt(Fault::kCut, Total() * 3 / 4, {"--no-compress"});
  auto preflight = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {XferRecvPath(), "--preflight",           "--name",    "data",
                                     "--need",       std::to_string(Total()), "--entries", "12"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(dst_);
    ChildProcess check(argv);
    int exit_code = check.Wait();
    return std::make_pair(exit_code, check.stderr_text());
  };
  auto [without, why] = preflight({"--no-resume"});
  EXPECT_EQ(without, 1) << "the leftover and a whole copy fit in 64 MiB?";
  EXPECT_NE(why.find("not enough space"), std::string::npos) << why;
  EXPECT_EQ(preflight({}).first, 0) << preflight({}).second;
  Resume();
}

TEST_F(ResumeTest, AHeldPrefixIsCountedAgainBecauseItIsCopied) {
  ASSERT_EQ(
      system(("rm -r " + src_ + "/data/sub " + src_ + "/data/small.txt " + src_ + "/data/link")
                 .c_str()),
      0);
  std::string error;
  auto disk = TmpfsMount::Mount(dst_, "size=40m", &error);
  if (!disk) GTEST_SKIP() << error;
  Interrupt(Fault::kCut, 12 * kMiB, {"--no-compress"});
  // The held prefix (some MiB of big.bin) is copied into a new file before the old one goes:
  // 24 MiB more are needed, not 24 less the prefix. Fill the disk so only that much is left.
  WriteRandomFile(dst_ + "/filler", 40 * kMiB - 24 * kMiB - kMiB, 5);
  std::string ticket;
  auto receiver = StartReceiver(dst_, {}, &ticket);
  auto sender = StartSender(ticket, {src_ + "/data"}, {});
  EXPECT_EQ(sender->Wait(), 1);
  EXPECT_EQ(receiver->Wait(), 1);
  EXPECT_NE(receiver->stderr_text().find("not enough space in"), std::string::npos)
      << receiver->stderr_text();
  // The receiver kept what it held, and the sender's verdict tells it too.
  EXPECT_TRUE(std::regex_search(
      sender->stderr_text(),
      std::regex("xfer-send: error: .*not enough space in .*; [0-9.]+ MB kept on .*\\.xfer-staging-"
                 "[0-9a-f]+; run the same command again to continue")))
      << sender->stderr_text();
  ASSERT_EQ(unlink((dst_ + "/filler").c_str()), 0);
  auto [received, sent] = Resume();
  EXPECT_GT(JsonNumber(received, "resumed_bytes"), 0u) << received;
}

TEST_F(ResumeTest, NothingToResumeIsAWholeTransfer) {
  auto [received, sent] = Resume();
  EXPECT_EQ(JsonNumber(received, "resumed_bytes"), 0u) << received;
  EXPECT_EQ(JsonNumber(sent, "resumed_files"), 0u) << sent;
}

TEST_F(ResumeTest, SeveralReceiversResumeWhatTheyAllHold) {
  std::string dst2 = tmp_.Sub("dst2");
  ASSERT_EQ(mkdir(dst2.c_str(), 0755), 0);
  {
    std::string t1, t2;
    auto r1 = StartReceiver(dst_, {}, &t1);
    auto r2 = StartReceiver(dst2, {}, &t2);
    auto cut_at = [&](uint64_t at) {
      return [at](uint64_t offset, uint8_t*, size_t len) { return offset + len < at; };
    };
    TcpProxy p1(static_cast<uint16_t>(std::stoi(t1.substr(6))), cut_at(Total() * 3 / 4));
    TcpProxy p2(static_cast<uint16_t>(std::stoi(t2.substr(6))), cut_at(Total() / 2));
    auto sender = StartSenderToAll({TicketWithPort(t1, p1.port()), TicketWithPort(t2, p2.port())},
                                   {src_ + "/data"}, {"--no-compress"});
    EXPECT_NE(sender->Wait(), 0);
    EXPECT_NE(r1->Wait(), 0);
    EXPECT_NE(r2->Wait(), 0);
  }
  std::string t1, t2;
  auto r1 = StartReceiver(dst_, {}, &t1);
  auto r2 = StartReceiver(dst2, {}, &t2);
  auto sender = StartSenderToAll({t1, t2}, {src_ + "/data"}, {});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(r1->Wait(), 0) << r1->stderr_text();
  ASSERT_EQ(r2->Wait(), 0) << r2->stderr_text();
  EXPECT_EQ(CompareTrees(src_ + "/data", dst_ + "/data"), std::vector<std::string>{});
  EXPECT_EQ(CompareTrees(src_ + "/data", dst2 + "/data"), std::vector<std::string>{});
  uint64_t resumed = JsonNumber(sender->ReadStdoutLine(), "resumed_bytes");
  // Both held their first part; the one cut earlier bounds what both hold.
  EXPECT_GT(resumed, 0u);
  EXPECT_LT(resumed, Total() / 2 + kMiB);
}

}  // namespace
}  // namespace xfer::testing
