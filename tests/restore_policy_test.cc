// What a root receiver restores of special files, end to end with the real programs: by default
// as `tar -xp --numeric-owner` as root (owners, device nodes, setuid/setgid bits);
// --no-same-owner, --no-devices and --no-setuid turn each off, on xfer-recv and through xfer.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "program_paths.h"
#include "temp_dir.h"
#include "text_match.h"
#include "transfer_harness.h"

namespace xfer::testing {
namespace {

constexpr uid_t kOwner = 4321;

struct stat Lstat(const std::string& path) {
  struct stat st = {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st;
}

class RestorePolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: device nodes, owners, setuid bits";
    ASSERT_EQ(mkdir(tmp_.Sub("src").c_str(), 0755), 0);
    ASSERT_EQ(mkdir(tmp_.Sub("src/top").c_str(), 0755), 0);
    ASSERT_EQ(mkdir(tmp_.Sub("dest").c_str(), 0755), 0);
    WriteFile(tmp_.Sub("src/top/tool"), "#!/bin/sh\n");
    ASSERT_EQ(chmod(tmp_.Sub("src/top/tool").c_str(), 06755), 0);
    ASSERT_EQ(chown(tmp_.Sub("src/top/tool").c_str(), kOwner, kOwner), 0);
    ASSERT_EQ(chmod(tmp_.Sub("src/top/tool").c_str(), 06755), 0);  // chown cleared the bits
    ASSERT_EQ(mknod(tmp_.Sub("src/top/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  }

  // Sends src/top with the real pair; returns the receiver's exit, its stderr in *log.
  int Send(const std::vector<std::string>& receiver_args, std::string* log) {
    std::string ticket;
    auto receiver = StartReceiver(tmp_.Sub("dest"), receiver_args, &ticket);
    auto sender = StartSender(ticket, {tmp_.Sub("src/top")});
    sender->Wait();
    int status = receiver->Wait();
    *log = receiver->stderr_text();
    return status;
  }

  std::string Dest(const std::string& name) const { return tmp_.Sub("dest/top/" + name); }

  TempDir tmp_;
};

TEST_F(RestorePolicyTest, ByDefaultOwnersDevicesAndSetuidBitsAreRestored) {
  std::string log;
  ASSERT_EQ(Send({}, &log), 0) << log;
  struct stat tool = Lstat(Dest("tool"));
  EXPECT_EQ(tool.st_uid, kOwner);
  EXPECT_EQ(tool.st_mode & 07777, 06755u);
  struct stat null = Lstat(Dest("null"));
  EXPECT_TRUE(S_ISCHR(null.st_mode));
  EXPECT_EQ(null.st_rdev, makedev(1, 3));
}

// Without the setuid bit too: kept, it would now be setuid-root.
TEST_F(RestorePolicyTest, NoSameOwnerLeavesEverythingToTheReceivingUserWithoutSetuid) {
  std::string log;
  ASSERT_EQ(Send({"--no-same-owner"}, &log), 0) << log;
  struct stat tool = Lstat(Dest("tool"));
  EXPECT_EQ(tool.st_uid, geteuid());
  EXPECT_EQ(tool.st_gid, getegid());
  EXPECT_EQ(tool.st_mode & 07777, 0755u);
}

TEST_F(RestorePolicyTest, NoDevicesRefusesTheDeviceNamingItAndCommitsNothing) {
  std::string log;
  EXPECT_NE(Send({"--no-devices"}, &log), 0);
  EXPECT_TRUE(Contains(log, "refusing entry 'top/null': a device (--no-devices)"));
  EXPECT_EQ(ListDirIgnoringStaging(tmp_.Sub("dest")), std::vector<std::string>{});
}

TEST_F(RestorePolicyTest, NoSetuidClearsTheBitsAndKeepsTheRest) {
  std::string log;
  ASSERT_EQ(Send({"--no-setuid"}, &log), 0) << log;
  struct stat tool = Lstat(Dest("tool"));
  EXPECT_EQ(tool.st_mode & 07777, 0755u);
  EXPECT_EQ(tool.st_uid, kOwner);
}

// As tar: a receiver that is not root cannot give files away, so it does not try, and the
// transfer succeeds with everything its own.
TEST_F(RestorePolicyTest, AReceiverNotRootKeepsWhatItWritesAsItsOwn) {
  constexpr uid_t kNobody = 65534;
  ASSERT_EQ(chmod(tmp_.path().c_str(), 0755), 0);
  ASSERT_EQ(mkdir(tmp_.Sub("plain").c_str(), 0755), 0);
  ASSERT_EQ(mkdir(tmp_.Sub("plain/top").c_str(), 0755), 0);
  WriteFile(tmp_.Sub("plain/top/file"), "data");
  ASSERT_EQ(chown(tmp_.Sub("plain/top/file").c_str(), kOwner, kOwner), 0);
  ASSERT_EQ(chown(tmp_.Sub("dest").c_str(), kNobody, kNobody), 0);
  ChildProcess receiver({"/usr/bin/setpriv", "--reuid", std::to_string(kNobody), "--regid",
                         std::to_string(kNobody), "--clear-groups", "--", XferRecvPath(),
                         tmp_.Sub("dest")});
  std::string ticket = receiver.ReadStdoutLine();
  ASSERT_FALSE(ticket.empty()) << receiver.stderr_text();
  auto sender = StartSender(ticket, {tmp_.Sub("plain/top")});
  EXPECT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver.Wait(), 0) << receiver.stderr_text();
  EXPECT_EQ(Lstat(Dest("file")).st_uid, kNobody);
  EXPECT_EQ(ReadFile(Dest("file")), "data");
}

TEST_F(RestorePolicyTest, NotForACommandsInput) {
  ChildProcess receiver({XferRecvPath(), "--no-setuid", "--exec", "cat", tmp_.Sub("dest")});
  EXPECT_EQ(receiver.Wait(), 1);  // as --resume with --exec: the library refuses the options
  EXPECT_TRUE(Contains(receiver.stderr_text(),
                       "--no-same-owner, --no-devices and --no-setuid apply to extracted files"));
}

TEST_F(RestorePolicyTest, XferPassesThePoliciesToEveryTarget) {
  ChildProcess xfer({XFER_ORCHESTRATOR_BIN_PATH, "--ssh", "/bin/false", "--no-same-owner",
                     "--no-setuid", "localhost:" + tmp_.Sub("src/top"),
                     "localhost:" + tmp_.Sub("dest")});
  ASSERT_EQ(xfer.Wait(std::chrono::seconds(60)), 0) << xfer.stderr_text();
  struct stat tool = Lstat(Dest("tool"));
  EXPECT_EQ(tool.st_uid, geteuid());
  EXPECT_EQ(tool.st_mode & 07777, 0755u);
  EXPECT_TRUE(S_ISCHR(Lstat(Dest("null")).st_mode));
}

}  // namespace
}  // namespace xfer::testing
