// End to end: backup files. xfer-recv --to-archive stores what xfer-send sends as a .tar.zst that
// GNU tar restores, and xfer-send --from-archive sends such a file (or any archive) back to a
// host as a restore; with the real programs on loopback, and the ways each fails.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "program_paths.h"
#include "temp_dir.h"
#include "text_match.h"
#include "tmpfs_mount.h"
#include "transfer_harness.h"
#include "tree_builder.h"
#include "tree_compare.h"
#include "tree_prune.h"

namespace xfer::testing {
namespace {

class BackupFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: devices, owners";
    ASSERT_EQ(mkdir(src_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir(dst_.c_str(), 0755), 0);
    BuildTestTree(src_, "db", &tree_);
    ASSERT_FALSE(HasFailure());
    // GNU tar cannot create paths longer than PATH_MAX: that branch of the test tree goes.
    ASSERT_TRUE(RemoveTree(tree_.root + "/deep").ok());
    ASSERT_EQ(unlink((tree_.root + "/far_link").c_str()), 0);
    StampTimes(tree_.root);
  }

  // Starts xfer-recv --to-archive FILE (no DIR) and reads its ticket.
  std::unique_ptr<ChildProcess> StartArchiveReceiver(const std::string& file, std::string* ticket) {
    auto receiver = std::make_unique<ChildProcess>(std::vector<std::string>{
        XferRecvPath(), "--listen", "127.0.0.1", "--timeout", "60", "--to-archive", file});
    *ticket = receiver->ReadStdoutLine();
    return receiver;
  }

  void Backup(const std::string& file) {
    std::string ticket;
    auto receiver = StartArchiveReceiver(file, &ticket);
    auto sender = StartSender(ticket, {tree_.root});
    ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
    ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  }

  TempDir tmp_;
  std::string src_ = tmp_.Sub("src");
  std::string dst_ = tmp_.Sub("dst");
  TestTree tree_;
};

TEST_F(BackupFileTest, ABackupFileRestoresWithTarAndWithXfer) {
  std::string file = tmp_.Sub("db.tar.zst");
  Backup(file);
  EXPECT_EQ(ListDir(tmp_.path()), (std::vector<std::string>{"db.tar.zst", "dst", "src"}))
      << "no temporary file may be left";

  ChildProcess tar({"/bin/tar", "--zstd", "--xattrs", "--xattrs-include=*", "--acls",
                    "--numeric-owner", "--warning=no-unknown-keyword", "-xpf", file, "-C", dst_});
  ASSERT_EQ(tar.Wait(), 0) << tar.stderr_text();
  EXPECT_THAT(CompareTrees(tree_.root, dst_ + "/db"), ::testing::IsEmpty());

  std::string restored = tmp_.Sub("restored");
  ASSERT_EQ(mkdir(restored.c_str(), 0755), 0);
  std::string ticket;
  auto receiver = StartReceiver(restored, {}, &ticket);
  auto sender = StartSender(ticket, {}, {"--from-archive", file});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  EXPECT_THAT(CompareTrees(tree_.root, restored + "/db"), ::testing::IsEmpty());
}

TEST_F(BackupFileTest, StripComponentsRestoresASubtreeUnderItsOwnName) {
  std::string file = tmp_.Sub("db.tar");
  Backup(file);
  std::string ticket;
  auto receiver = StartReceiver(dst_, {}, &ticket);
  auto sender = StartSender(ticket, {}, {"--from-archive", file, "--strip-components", "1"});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  // What was under db/ arrives at the top of the destination.
  EXPECT_EQ(ListDir(dst_), ListDir(tree_.root));
}

TEST_F(BackupFileTest, AnExistingBackupFileIsRefusedBeforeTheTicket) {
  std::string file = tmp_.Sub("db.tar.zst");
  WriteFile(file, "an older backup");
  ChildProcess receiver({XferRecvPath(), "--to-archive", file});
  EXPECT_EQ(receiver.Wait(), 1);
  EXPECT_EQ(receiver.stdout_text(), "") << "no ticket may be printed";
  EXPECT_TRUE(Contains(receiver.stderr_text(), file + " already exists"));
  EXPECT_EQ(ReadFile(file), "an older backup");

  ChildProcess unknown({XferRecvPath(), "--to-archive", tmp_.Sub("db.zip")});
  EXPECT_EQ(unknown.Wait(), 1);
  EXPECT_TRUE(Contains(unknown.stderr_text(), "db.zip"));
}

TEST_F(BackupFileTest, AStreamCannotBecomeABackupFile) {
  std::string file = tmp_.Sub("db.tar.zst");
  std::string ticket;
  auto receiver = StartArchiveReceiver(file, &ticket);
  auto sender = StartSender(ticket, {}, {"--exec", "echo not an archive"});
  EXPECT_EQ(sender->Wait(), 1);
  EXPECT_EQ(receiver->Wait(), 1);
  EXPECT_TRUE(Contains(receiver->stderr_text(), "an archive file holds files"));
  EXPECT_EQ(ListDir(tmp_.path()), (std::vector<std::string>{"dst", "src"}));
}

TEST_F(BackupFileTest, AFullDiskLeavesNoBackupFile) {
  std::string small = tmp_.Sub("small");
  ASSERT_EQ(mkdir(small.c_str(), 0755), 0);
  std::string error;
  auto disk = testing::TmpfsMount::Mount(small, "size=1m", &error);
  ASSERT_NE(disk, nullptr) << error;
  std::string file = small + "/db.tar";
  std::string ticket;
  auto receiver = StartArchiveReceiver(file, &ticket);
  auto sender = StartSender(ticket, {tree_.root});
  EXPECT_EQ(sender->Wait(), 1);
  EXPECT_EQ(receiver->Wait(), 1);
  EXPECT_TRUE(Contains(receiver->stderr_text(), "No space left on device"));
  EXPECT_TRUE(Contains(sender->stderr_text(), "No space left on device"));
  EXPECT_TRUE(ListDir(small).empty());
}

TEST_F(BackupFileTest, ACorruptArchiveFailsBothSidesAndRestoresNothing) {
  std::string file = tmp_.Sub("db.tar.zst");
  Backup(file);
  // Cut the compressed file in half: the restore fails midway, after data has flowed.
  struct stat st;
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  ASSERT_EQ(truncate(file.c_str(), st.st_size / 2), 0);
  std::string ticket;
  auto receiver = StartReceiver(dst_, {}, &ticket);
  auto sender = StartSender(ticket, {}, {"--from-archive", file});
  EXPECT_EQ(sender->Wait(), 1);
  EXPECT_EQ(receiver->Wait(), 1);
  EXPECT_TRUE(Contains(sender->stderr_text(), "xfer-send: error: archive " + file));
  EXPECT_TRUE(ListDir(dst_).empty());
}

TEST_F(BackupFileTest, TheEmbeddingExampleBacksUpAndRestores) {
  std::string file = tmp_.Sub("db.tar.zst");
  ChildProcess backup({XFER_BACKUP_EXAMPLE_PATH, "backup", tree_.root, file});
  ASSERT_EQ(backup.Wait(), 0) << backup.stderr_text();
  ChildProcess restore({XFER_BACKUP_EXAMPLE_PATH, "restore", file, dst_});
  ASSERT_EQ(restore.Wait(), 0) << restore.stderr_text();
  EXPECT_THAT(CompareTrees(tree_.root, dst_ + "/db"), ::testing::IsEmpty());
}

}  // namespace
}  // namespace xfer::testing
