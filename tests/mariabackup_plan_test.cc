// The command lines `xfer --type mariabackup` builds (src/orchestrator/mariabackup_plan.h) and
// the options it refuses. End to end: mariabackup_test.cc.
#include "mariabackup_plan.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "child_process.h"
#include "shell_quote.h"
#include "text_match.h"

namespace xfer::testing {
namespace {

using Names = std::vector<std::string>;
using orchestrator::MariabackupOptions;

const std::string kXfer = XFER_ORCHESTRATOR_BIN_PATH;

TEST(MariabackupPlan, BackupCommandPutsOptionFilesFirst) {
  MariabackupOptions options;
  options.user = "backup";
  options.parallel = 8;
  options.backup_options = {"--slave-info", "--defaults-extra-file=/etc/xfer/backup.cnf",
                            "--galera-info"};
  EXPECT_EQ(orchestrator::BackupCommand(options, "/run/mysqld/mysqld.sock"),
            (Names{"mariadb-backup", "--defaults-extra-file=/etc/xfer/backup.cnf", "--backup",
                   "--stream=xbstream", "--socket=/run/mysqld/mysqld.sock", "--parallel=8",
                   "--user=backup", "--slave-info", "--galera-info"}));
}

TEST(MariabackupPlan, ClientAndPrepareCommandsTakeTheirOptions) {
  MariabackupOptions options;
  options.mariadb = "/opt/mariadb/bin/mariadb";
  options.backup_options = {"--slave-info", "--defaults-file=/root/.my.cnf"};
  options.prepare_options = {"--use-memory=1G"};
  EXPECT_EQ(orchestrator::ClientCommand(options, "/s.sock", "STOP REPLICA"),
            (Names{"/opt/mariadb/bin/mariadb", "--defaults-file=/root/.my.cnf", "--socket=/s.sock",
                   "--batch", "--execute=STOP REPLICA"}));
  EXPECT_EQ(orchestrator::PrepareCommand(options, "/srv/new"),
            (Names{"mariadb-backup", "--prepare", "--target-dir=/srv/new", "--use-memory=1G"}));
  EXPECT_EQ(orchestrator::ExtractCommand(options), (Names{"mbstream", "-x"}));
}

// xfer-send splits its --exec string as sh would: it must give back exactly the words.
TEST(MariabackupPlan, ExecCommandSplitsBackIntoTheSameWords) {
  orchestrator::Plan plan;
  plan.source.path = "/run/my sql/it's \"the\" $socket;`x`";
  MariabackupOptions options;
  options.mariadb_backup = "/opt/maria db/mariadb-backup";
  options.user = "o'brien";
  options.backup_options = {"--tmpdir=/tmp/a b", "--defaults-extra-file=/etc/x y.cnf"};
  ASSERT_TRUE(orchestrator::ConfigureMariabackup(options, &plan).ok());
  Names words;
  ASSERT_TRUE(cli::SplitCommandWords(plan.send_exec, &words).ok()) << plan.send_exec;
  EXPECT_EQ(words, orchestrator::BackupCommand(options, plan.source.path));
  ASSERT_TRUE(cli::SplitCommandWords(plan.recv_exec, &words).ok());
  EXPECT_EQ(words, (Names{"mbstream", "-x"}));
}

TEST(MariabackupPlan, RefusesAPasswordOnTheCommandLine) {
  for (const char* option : {"--password=hunter2", "--pass=hunter2", "--passwo=hunter2",
                             "-phunter2", "--loose-password=hunter2", "--password"}) {
    orchestrator::Plan plan;
    plan.source.path = "/s.sock";
    MariabackupOptions options;
    options.backup_options = {option};
    Status status = orchestrator::ConfigureMariabackup(options, &plan);
    EXPECT_FALSE(status.ok()) << option;
    EXPECT_TRUE(Contains(status.message(), "--defaults-extra-file")) << option;
    EXPECT_EQ(status.message().find("hunter2"), std::string::npos) << status.message();
  }
  // Options that only look alike pass.
  orchestrator::Plan plan;
  plan.source.path = "/s.sock";
  MariabackupOptions options;
  options.backup_options = {"--parallel=2", "--port=3307", "-P3307"};
  EXPECT_TRUE(orchestrator::ConfigureMariabackup(options, &plan).ok());
}

TEST(MariabackupPlan, RefusesWhatDoesNotApplyToABackupStream) {
  for (int which = 0; which < 2; ++which) {
    orchestrator::Plan plan;
    plan.source.path = "/s.sock";
    plan.overwrite = which == 0;
    plan.checksum = which == 1;
    EXPECT_FALSE(orchestrator::ConfigureMariabackup(MariabackupOptions(), &plan).ok()) << which;
  }
}

// Resuming is the default of a tree copy; a backup stream keeps nothing to resume from.
TEST(MariabackupPlan, TurnsResumingOff) {
  orchestrator::Plan plan;
  plan.source.path = "/s.sock";
  ASSERT_TRUE(plan.resume);
  ASSERT_TRUE(orchestrator::ConfigureMariabackup(MariabackupOptions(), &plan).ok());
  EXPECT_FALSE(plan.resume);
}

TEST(MariabackupCommandLine, BackupOptionsNeedTheType) {
  ChildProcess xfer({kXfer, "--prepare", "localhost:/tmp/s.sock", "localhost:/tmp"});
  EXPECT_EQ(xfer.Wait(std::chrono::seconds(30)), 2);
  EXPECT_TRUE(Contains(xfer.stderr_text(), "--prepare needs --type mariabackup"));
}

TEST(MariabackupCommandLine, ExplicitResumeIsRefusedAsNotResumable) {
  ChildProcess xfer(
      {kXfer, "--type", "mariabackup", "--resume", "localhost:/tmp/s.sock", "localhost:/tmp"});
  EXPECT_EQ(xfer.Wait(std::chrono::seconds(30)), 2);
  EXPECT_TRUE(Contains(xfer.stderr_text(), "--resume: not with --type mariabackup"))
      << xfer.stderr_text();
  EXPECT_TRUE(Contains(xfer.stderr_text(), "not resumable")) << xfer.stderr_text();
}

TEST(MariabackupCommandLine, PasswordInAnOptionIsRefusedWithoutShowingIt) {
  ChildProcess xfer({kXfer, "--type", "mariabackup", "--backup-option=--password=hunter2",
                     "localhost:/tmp/s.sock", "localhost:/tmp"});
  EXPECT_EQ(xfer.Wait(std::chrono::seconds(30)), 2);
  EXPECT_TRUE(Contains(xfer.stderr_text(), "--defaults-extra-file"));
  EXPECT_EQ(xfer.stderr_text().find("hunter2"), std::string::npos) << xfer.stderr_text();
}

}  // namespace
}  // namespace xfer::testing
