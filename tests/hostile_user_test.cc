// Another user on the receiving host, end to end: a root xfer-recv writing into a directory that
// an unprivileged user (uid 65534, through setpriv) may also write, while that user plants
// leftovers and keeps putting symlinks to a root-owned directory wherever the transfer writes.
// Whatever the attacker does, nothing is written outside DIR, and DIR/top is either the verified
// copy (a real directory) or absent.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "resume_journal.h"
#include "temp_dir.h"
#include "text_match.h"
#include "transfer_harness.h"
#include "tree_compare.h"

namespace xfer::testing {
namespace {

constexpr uid_t kNobody = 65534;

bool IsRealDirectory(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Replaces every staging directory's "top" (when the attacker may write the staging directory)
// or the staging directory itself (when it may rename entries of DIR) with a symlink to victim,
// and says "swapped" on stdout each time, until killed.
std::string AttackScript(const std::string& dest, const std::string& victim) {
  return "cd '" + dest +
         "' || exit 1\n"
         "while :; do\n"
         "  for s in .xfer-staging-*; do\n"
         "    case \"$s\" in *.journal|*.moved*) continue;; esac\n"
         "    [ -d \"$s\" ] && [ ! -L \"$s\" ] || continue\n"
         "    if [ -w \"$s\" ]; then\n"
         "      if [ ! -L \"$s/top\" ]; then\n"
         "        [ -e \"$s/top\" ] && mv \"$s/top\" \"$s/old.$$.$(date +%N)\" 2>/dev/null\n"
         "        ln -s '" +
         victim +
         "' \"$s/top\" 2>/dev/null && echo swapped\n"
         "      fi\n"
         "    elif mv \"$s\" \"$s.moved\" 2>/dev/null; then\n"
         "      ln -s '" +
         victim +
         "' \"$s\" && echo swapped\n"
         "    fi\n"
         "  done\n"
         "done\n";
}

class HostileUserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: the receiver runs as root, the attacker not";
    if (access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "needs setpriv (util-linux)";
    // The attacker must reach DIR: every directory above it searchable.
    ASSERT_EQ(chmod(tmp_.path().c_str(), 0755), 0);
    // Root's, outside DIR, holding what a transfer named "top" must never touch.
    ASSERT_EQ(mkdir(tmp_.Sub("victim").c_str(), 0755), 0);
    ASSERT_EQ(mkdir(tmp_.Sub("victim/top").c_str(), 0755), 0);
    WriteFile(tmp_.Sub("victim/top/precious"), "precious");
    ASSERT_EQ(mkdir(tmp_.Sub("src").c_str(), 0755), 0);
    ASSERT_EQ(mkdir(tmp_.Sub("src/top").c_str(), 0755), 0);
    for (int i = 0; i < 400; ++i) {
      WriteFile(tmp_.Sub("src/top/file" + std::to_string(i)), std::string(2048, 'a' + i % 26));
    }
  }

  std::string Dest() const { return tmp_.Sub("dest"); }

  std::unique_ptr<ChildProcess> StartAttacker() {
    return std::make_unique<ChildProcess>(std::vector<std::string>{
        "/usr/bin/setpriv", "--reuid", std::to_string(kNobody), "--regid", std::to_string(kNobody),
        "--clear-groups", "--", "/bin/sh", "-c", AttackScript(Dest(), tmp_.Sub("victim"))});
  }

  // Runs a rate-limited transfer of src/top into DIR while the attacker is at work (it has
  // swapped something at least once before the transfer ends); returns the receiver's stderr.
  std::string TransferUnderAttack(const std::vector<std::string>& extra) {
    std::string ticket;
    auto receiver = StartReceiver(Dest(), extra, &ticket);
    auto attacker = StartAttacker();
    std::vector<std::string> send_args = extra;
    send_args.insert(send_args.end(), {"--no-compress", "--limit-rate", "300K"});
    auto sender = StartSender(ticket, {tmp_.Sub("src/top")}, send_args);
    EXPECT_EQ(attacker->ReadStdoutLine(std::chrono::seconds(60)), "swapped");
    int sent = sender->Wait();
    int received = receiver->Wait();
    attacker->Kill(SIGKILL);
    attacker->Wait();
    EXPECT_EQ(sent, received) << sender->stderr_text() << receiver->stderr_text();
    return receiver->stderr_text();
  }

  // Nothing outside DIR written, moved or removed, and DIR/top the verified copy or nothing.
  void ExpectNothingEscaped() {
    EXPECT_EQ(ListDir(tmp_.Sub("victim")), std::vector<std::string>{"top"});
    EXPECT_EQ(ListDir(tmp_.Sub("victim/top")), std::vector<std::string>{"precious"});
    if (access((Dest() + "/top").c_str(), F_OK) == 0 || errno != ENOENT) {
      ASSERT_TRUE(IsRealDirectory(Dest() + "/top")) << "DIR/top is not a real directory";
      EXPECT_EQ(DescribeDiffs(CompareTrees(tmp_.Sub("src/top"), Dest() + "/top")), "");
    }
  }

  TempDir tmp_;
};

TEST_F(HostileUserTest, PlantedLeftoverInStickyDirIsLeftAloneAndNothingEscapes) {
  ASSERT_EQ(mkdir(Dest().c_str(), 01777), 0);
  ASSERT_EQ(chmod(Dest().c_str(), 01777), 0);
  // The attacker's leftover: a journal of the same names with an intact header, and a staging
  // directory anyone may write, both the attacker's.
  const std::string planted = Dest() + "/.xfer-staging-0123456789abcdef";
  {
    ResumeJournal journal;
    ASSERT_TRUE(ResumeJournal::Create(planted + ".journal", {"top"}, &journal).ok());
  }
  ASSERT_EQ(mkdir(planted.c_str(), 0777), 0);
  ASSERT_EQ(chmod(planted.c_str(), 0777), 0);
  ASSERT_EQ(chown(planted.c_str(), kNobody, kNobody), 0);
  ASSERT_EQ(chown((planted + ".journal").c_str(), kNobody, kNobody), 0);

  std::string log = TransferUnderAttack({"--resume"});
  ExpectNothingEscaped();
  EXPECT_TRUE(IsRealDirectory(Dest() + "/top")) << log;
  EXPECT_TRUE(Contains(log, "leaving " + planted + " alone: resume journal " + planted +
                                ".journal is owned by uid 65534"))
      << log;
  // Not ours, so not removed either.
  EXPECT_EQ(access(planted.c_str(), F_OK), 0);
  EXPECT_EQ(access((planted + ".journal").c_str(), F_OK), 0);
}

TEST_F(HostileUserTest, StagingSwappedForSymlinkInSharedDirRedirectsNothing) {
  // Not sticky: the attacker may rename root's staging directory and put a symlink in its place.
  ASSERT_EQ(mkdir(Dest().c_str(), 0777), 0);
  ASSERT_EQ(chmod(Dest().c_str(), 0777), 0);
  std::string log = TransferUnderAttack({});
  ExpectNothingEscaped();
  EXPECT_TRUE(IsRealDirectory(Dest() + "/top")) << log;
}

TEST_F(HostileUserTest, StagingSwappedForSymlinkWithResumeRedirectsNothing) {
  ASSERT_EQ(mkdir(Dest().c_str(), 0777), 0);
  ASSERT_EQ(chmod(Dest().c_str(), 0777), 0);
  std::string log = TransferUnderAttack({"--resume"});
  ExpectNothingEscaped();
  EXPECT_TRUE(IsRealDirectory(Dest() + "/top")) << log;
}

// The attacker's own DIR/top, replaced with --overwrite while the attacker keeps creating files in
// it (its working directory): once swapped out, the old tree may refuse to go, which must not turn
// a committed transfer into a failure.
TEST_F(HostileUserTest, OverwritingATreeItsOwnerKeepsFillingStillSucceeds) {
  ASSERT_EQ(mkdir(Dest().c_str(), 01777), 0);
  ASSERT_EQ(chmod(Dest().c_str(), 01777), 0);
  ASSERT_EQ(mkdir((Dest() + "/top").c_str(), 0755), 0);
  ASSERT_EQ(chown((Dest() + "/top").c_str(), kNobody, kNobody), 0);
  ChildProcess filler({"/usr/bin/setpriv", "--reuid", std::to_string(kNobody), "--regid",
                       std::to_string(kNobody), "--clear-groups", "--", "/bin/sh", "-c",
                       "cd '" + Dest() +
                           "/top' && echo filling && i=0 && "
                           "while :; do : > f$i; i=$((i+1)); done"});
  ASSERT_EQ(filler.ReadStdoutLine(), "filling");
  std::string ticket;
  auto receiver = StartReceiver(Dest(), {"--overwrite"}, &ticket);
  auto sender = StartSender(ticket, {tmp_.Sub("src/top")});
  EXPECT_EQ(sender->Wait(), 0) << sender->stderr_text();
  EXPECT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  filler.Kill(SIGKILL);
  filler.Wait();
  EXPECT_TRUE(IsRealDirectory(Dest() + "/top"));
  EXPECT_EQ(DescribeDiffs(CompareTrees(tmp_.Sub("src/top"), Dest() + "/top")), "");
}

}  // namespace
}  // namespace xfer::testing
