// End-to-end tests of `xfer`: real sshd on every "host" (network namespaces on a private
// bridge), the real xfer-send and xfer-recv started through ssh, real files.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "netns_lan.h"
#include "process_table.h"
#include "program_paths.h"
#include "run_command.h"
#include "shell_quote.h"
#include "sshd_server.h"
#include "temp_dir.h"
#include "text_match.h"
#include "tmpfs_mount.h"
#include "transfer_harness.h"
#include "tree_builder.h"
#include "tree_compare.h"

namespace xfer::testing {
namespace {

using Names = std::vector<std::string>;

const std::string kXfer = XFER_ORCHESTRATOR_BIN_PATH;
const std::string kBinDir = std::filesystem::path(XferRecvPath()).parent_path().string();

// Host 0 runs `xfer` and holds the source; hosts 1..3 are the targets. Every host runs sshd; all
// share this machine's filesystem, so each target writes into its own directory of one TempDir.
class Cluster {
 public:
  static constexpr int kTargets = 3;

  // small_target: a target host whose directory is a tmpfs of small_size (64 KiB unless
  // told), mounted before any sshd starts (each sshd lives in a mount namespace copied at its
  // start).
  explicit Cluster(int small_target = 0, const std::string& small_size = "64k")
      : lan_(kTargets + 1) {
    for (int i = 1; i <= kTargets; ++i) std::filesystem::create_directory(TargetDir(i));
    if (small_target > 0) {
      std::string error;
      small_ = TmpfsMount::Mount(TargetDir(small_target), "size=" + small_size, &error);
    }
    if (!lan_.status().ok()) {
      status_ = lan_.status();
      return;
    }
    for (int i = 0; i <= kTargets; ++i) {
      sshd_.push_back(std::make_unique<SshdServer>(lan_.host_namespace(i)));
      if (!sshd_.back()->status().ok()) {
        status_ = sshd_.back()->status();
        return;
      }
    }
    std::filesystem::create_directory(dir_.Sub("src"));
  }
  const Status& status() const { return status_; }
  NetnsLan& lan() { return lan_; }
  std::string Dir(const std::string& relative) const { return dir_.Sub(relative); }
  std::string TargetDir(int host) const { return dir_.Sub("t" + std::to_string(host)); }
  // "root@10.99.0.N:PATH"
  std::string Operand(int host, const std::string& path) const {
    return "root@" + lan_.host_address(host) + ":" + path;
  }

  // --ssh: every sshd's key (ssh tries each), the port, no host key prompts.
  std::string SshOption() const {
    std::vector<std::string> words = sshd_[0]->SshCommand();
    for (size_t i = 1; i < sshd_.size(); ++i) {
      words.insert(words.end(), {"-i", sshd_[i]->client_key()});
    }
    return cli::ShellCommand(words);
  }

  // xfer, run on host 0, with --ssh and --bin-dir set.
  std::unique_ptr<ChildProcess> StartXfer(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{kXfer, "--ssh", SshOption(), "--bin-dir", kBinDir};
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<ChildProcess>(lan_.Exec(0, argv));
  }

  // The small target's tmpfs, null when there is none.
  TmpfsMount* small_disk() const { return small_.get(); }

  std::vector<std::string> AllTargets() const {
    std::vector<std::string> operands;
    for (int i = 1; i <= kTargets; ++i) operands.push_back(Operand(i, TargetDir(i)));
    return operands;
  }

 private:
  Status status_;
  TempDir dir_;
  NetnsLan lan_;
  std::unique_ptr<TmpfsMount> small_;  // the small target's tmpfs, if mounted
  std::vector<std::unique_ptr<SshdServer>> sshd_;
};

#define SKIP_UNLESS_READY(cluster) \
  if (!(cluster).status().ok()) GTEST_SKIP() << (cluster).status().message()

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void ExpectEveryTargetHolds(const Cluster& cluster, const std::string& source_root,
                            const std::string& name) {
  for (int i = 1; i <= Cluster::kTargets; ++i) {
    EXPECT_EQ(CompareTrees(source_root, cluster.TargetDir(i) + "/" + name), Names{})
        << "target " << i;
  }
}

void ExpectNothingArrived(const Cluster& cluster) {
  for (int i = 1; i <= Cluster::kTargets; ++i) {
    EXPECT_EQ(ListDir(cluster.TargetDir(i)), Names{}) << "target " << i;
  }
}

TEST(Orchestrator, ChainCopiesATreeToThreeTargets) {
  Cluster cluster;
  SKIP_UNLESS_READY(cluster);
  TestTree tree;
  BuildTestTree(cluster.Dir("src"), "data", &tree);
  auto xfer = cluster.StartXfer(Concat({cluster.Operand(0, tree.root)}, cluster.AllTargets()));
  ASSERT_EQ(xfer->Wait(std::chrono::seconds(120)), 0) << xfer->stderr_text();
  ExpectEveryTargetHolds(cluster, tree.root, "data");
  EXPECT_TRUE(Contains(xfer->stderr_text(), "3 of 3 targets verified"));
}

TEST(Orchestrator, ParallelCopiesToThreeTargetsAndReportsJsonEvents) {
  Cluster cluster;
  SKIP_UNLESS_READY(cluster);
  std::filesystem::create_directory(cluster.Dir("src/data"));
  WriteRandomFile(cluster.Dir("src/data/blob"), 8 << 20);
  auto xfer = cluster.StartXfer(
      Concat({"--fanout", "parallel", "--json", cluster.Operand(0, cluster.Dir("src/data"))},
             cluster.AllTargets()));
  ASSERT_EQ(xfer->Wait(std::chrono::seconds(120)), 0) << xfer->stderr_text();
  ExpectEveryTargetHolds(cluster, cluster.Dir("src/data"), "data");
  const std::string& events = xfer->stdout_text();
  EXPECT_TRUE(Contains(events, "{\"event\":\"start\""));
  for (int i = 1; i <= Cluster::kTargets; ++i) {
    std::string label = cluster.Operand(i, cluster.TargetDir(i));
    EXPECT_TRUE(Contains(events, "{\"event\":\"result\",\"target\":\"" + label + "\",\"ok\":true"));
  }
  EXPECT_TRUE(Contains(events, "{\"event\":\"summary\",\"ok\":true,\"targets\":3,\"verified\":3"));
}

TEST(Orchestrator, LocalhostRunsWithoutSsh) {
  TempDir dir;
  std::filesystem::create_directories(dir.Sub("src/data/sub"));
  WriteFile(dir.Sub("src/data/sub/file"), "content");
  std::filesystem::create_directory(dir.Sub("dst"));
  // An --ssh that cannot work proves ssh is not used.
  ChildProcess xfer({kXfer, "--ssh", "/bin/false", "localhost:" + dir.Sub("src/data"),
                     "localhost:" + dir.Sub("dst")});
  ASSERT_EQ(xfer.Wait(std::chrono::seconds(60)), 0) << xfer.stderr_text();
  EXPECT_EQ(CompareTrees(dir.Sub("src/data"), dir.Sub("dst/data")), Names{});
}

// A receiver that claims success for another stream than the one sent (here a wrapper that
// changes the digest in its result line) is a failed target, named with both digests.
TEST(Orchestrator, TargetReportingAnotherStreamDigestFails) {
  TempDir dir;
  std::filesystem::create_directories(dir.Sub("bin"));
  std::filesystem::create_directories(dir.Sub("src/data"));
  std::filesystem::create_directory(dir.Sub("dst"));
  WriteFile(dir.Sub("src/data/file"), "content");
  std::filesystem::create_symlink(XferSendPath(), dir.Sub("bin/xfer-send"));
  WriteFile(dir.Sub("bin/xfer-recv"),
            "#!/bin/sh\n'" + std::string(XferRecvPath()) +
                "' \"$@\" | sed -u 's/\"stream_digest\":\"[0-9a-f]*\"/"
                "\"stream_digest\":\"00000000000000000000000000000000\"/'\n");
  ASSERT_EQ(chmod(dir.Sub("bin/xfer-recv").c_str(), 0755), 0);
  ChildProcess xfer({kXfer, "--bin-dir", dir.Sub("bin"), "localhost:" + dir.Sub("src/data"),
                     "localhost:" + dir.Sub("dst")});
  EXPECT_EQ(xfer.Wait(std::chrono::seconds(60)), 1) << xfer.stderr_text();
  EXPECT_TRUE(Contains(xfer.stderr_text(),
                       "received a stream whose digest (00000000000000000000000000000000) "
                       "differs from the one the sender sent"))
      << xfer.stderr_text();
}

// The receivers listen, the sender fails before reaching them: here because `localhost` does
// not resolve (a bare chroot without /etc/hosts). In a private mount namespace /etc/hosts is
// empty, names are looked up in files, then DNS, and DNS goes to loopback, where nothing answers.
// xfer stops the receivers at once rather than waiting out their --timeout or --idle-timeout (an
// hour each here).
TEST(Orchestrator, ASenderThatReachesNoReceiverStopsThemAtOnce) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: a mount namespace";
  TempDir dir;
  std::filesystem::create_directories(dir.Sub("src/data"));
  WriteFile(dir.Sub("src/data/file"), "content");
  std::filesystem::create_directory(dir.Sub("dst"));
  WriteFile(dir.Sub("hosts"), "");
  WriteFile(dir.Sub("nsswitch.conf"), "hosts: files dns\n");
  WriteFile(dir.Sub("resolv.conf"), "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
  // A file missing from /etc is as good as the empty one: nothing to cover. 77: no namespace.
  const char* script = R"sh(
for f in hosts nsswitch.conf resolv.conf; do
  [ ! -e "/etc/$f" ] || mount --bind "$1/$f" "/etc/$f" || exit 77
done
shift
exec "$@"
)sh";
  ChildProcess xfer({"/usr/bin/unshare", "--mount", "sh", "-c", script, "sh", dir.path(), kXfer,
                     "--timeout", "3600", "--idle-timeout", "3600",
                     "localhost:" + dir.Sub("src/data"), "localhost:" + dir.Sub("dst")});
  // A deadline far below an hour: only a hang reaches it.
  int code = xfer.Wait(std::chrono::seconds(300));
  if (code == 77 || Contains(xfer.stderr_text(), "unshare failed")) {
    GTEST_SKIP() << "no private mount namespace here: " << xfer.stderr_text();
  }
  ASSERT_EQ(code, 1) << xfer.stderr_text();
  EXPECT_TRUE(Contains(xfer.stderr_text(), "localhost:" + dir.Sub("dst") +
                                               ": FAILED: the sender failed: connecting to "
                                               "localhost:"))
      << xfer.stderr_text();
  EXPECT_EQ(ListDir(dir.Sub("dst")), Names{});
}

// Runs xfer with HOME pointing at `home`, where ~/.config/xfer/xfer.conf may be.
std::unique_ptr<ChildProcess> StartXferWithHome(const std::string& home,
                                                const std::vector<std::string>& args) {
  std::string saved = getenv("HOME") ? getenv("HOME") : "";
  setenv("HOME", home.c_str(), 1);
  auto xfer = std::make_unique<ChildProcess>(Concat({kXfer}, args));
  setenv("HOME", saved.c_str(), 1);
  return xfer;
}

TEST(Orchestrator, UserConfigSetsDefaultsAndTheCommandLineWins) {
  TempDir dir;
  std::filesystem::create_directories(dir.Sub("src/data"));
  WriteFile(dir.Sub("src/data/f"), "content");
  std::filesystem::create_directories(dir.Sub("home/.config/xfer"));
  WriteFile(dir.Sub("home/.config/xfer/xfer.conf"), "fanout = parallel\njson = true\n");
  for (const char* d : {"dst1", "dst2"}) std::filesystem::create_directory(dir.Sub(d));

  auto from_config = StartXferWithHome(
      dir.Sub("home"), {"localhost:" + dir.Sub("src/data"), "localhost:" + dir.Sub("dst1")});
  ASSERT_EQ(from_config->Wait(std::chrono::seconds(60)), 0) << from_config->stderr_text();
  EXPECT_TRUE(Contains(from_config->stdout_text(), "\"fanout\":\"parallel\""));

  auto overridden = StartXferWithHome(
      dir.Sub("home"),
      {"--fanout", "chain", "localhost:" + dir.Sub("src/data"), "localhost:" + dir.Sub("dst2")});
  ASSERT_EQ(overridden->Wait(std::chrono::seconds(60)), 0) << overridden->stderr_text();
  EXPECT_TRUE(Contains(overridden->stdout_text(), "\"fanout\":\"chain\""));
  EXPECT_EQ(CompareTrees(dir.Sub("src/data"), dir.Sub("dst2/data")), Names{});
}

TEST(Orchestrator, BadOperandIsAUsageError) {
  ChildProcess xfer({kXfer, "localhost:/tmp", "db2"});
  EXPECT_EQ(xfer.Wait(std::chrono::seconds(30)), 2);
  EXPECT_TRUE(Contains(xfer.stderr_text(), "xfer: error: 'db2' has no ':PATH'"));
}

TEST(Orchestrator, PathWithShellCodeArrivesAsAName) {
  Cluster cluster;
  SKIP_UNLESS_READY(cluster);
  // Were it run, the command would create the marker in the remote shell's directory (root's
  // home) or in ours.
  std::string marker = "xfer-pwned-" + std::to_string(getpid());
  std::string name = "x'; touch " + marker + "; '";
  std::filesystem::create_directory(cluster.Dir("src/" + name));
  WriteFile(cluster.Dir("src/" + name + "/f"), "data");
  auto xfer = cluster.StartXfer(
      {cluster.Operand(0, cluster.Dir("src/" + name)), cluster.Operand(1, cluster.TargetDir(1))});
  ASSERT_EQ(xfer->Wait(std::chrono::seconds(120)), 0) << xfer->stderr_text();
  EXPECT_EQ(CompareTrees(cluster.Dir("src/" + name), cluster.TargetDir(1) + "/" + name), Names{});
  EXPECT_FALSE(std::filesystem::exists("/root/" + marker)) << "a path was run as shell code";
  EXPECT_FALSE(std::filesystem::exists(marker)) << "a path was run as shell code";
}

// Pre-flight: each problem is reported with its host, and nothing is transferred anywhere.
class PreflightFailure : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cluster_.status().ok()) GTEST_SKIP() << cluster_.status().message();
    std::filesystem::create_directory(cluster_.Dir("src/data"));
    WriteFile(cluster_.Dir("src/data/f"), std::string(100000, 'x'));
  }

  // Runs xfer to all targets; expects exit 1, `expected` in stderr and no data anywhere.
  void ExpectRefused(const std::vector<std::string>& options, const std::string& source,
                     const std::string& expected) {
    auto xfer = cluster_.StartXfer(Concat(Concat(options, {source}), cluster_.AllTargets()));
    EXPECT_EQ(xfer->Wait(std::chrono::seconds(120)), 1);
    EXPECT_TRUE(Contains(xfer->stderr_text(), expected));
    EXPECT_TRUE(Contains(xfer->stderr_text(), "pre-flight failed; nothing was transferred"));
  }

  Cluster cluster_;
};

TEST_F(PreflightFailure, MissingSource) {
  ExpectRefused({}, cluster_.Operand(0, cluster_.Dir("src/absent")),
                "source root@" + cluster_.lan().host_address(0) + ":" + cluster_.Dir("src/absent"));
  ExpectNothingArrived(cluster_);
}

TEST_F(PreflightFailure, ExistingTarget) {
  std::filesystem::create_directory(cluster_.TargetDir(2) + "/data");
  ExpectRefused({}, cluster_.Operand(0, cluster_.Dir("src/data")),
                "target " + cluster_.Operand(2, cluster_.TargetDir(2)));
  EXPECT_EQ(ListDir(cluster_.TargetDir(1)), Names{});
  EXPECT_EQ(ListDir(cluster_.TargetDir(3)), Names{});
}

TEST(PreflightFailureNoSpace, TargetWithoutRoomIsNamedAndNothingMoves) {
  Cluster cluster(3);
  SKIP_UNLESS_READY(cluster);
  std::filesystem::create_directory(cluster.Dir("src/data"));
  WriteFile(cluster.Dir("src/data/f"), std::string(100000, 'x'));
  auto xfer = cluster.StartXfer(
      Concat({cluster.Operand(0, cluster.Dir("src/data"))}, cluster.AllTargets()));
  EXPECT_EQ(xfer->Wait(std::chrono::seconds(120)), 1);
  EXPECT_TRUE(Contains(xfer->stderr_text(), "target " + cluster.Operand(3, cluster.TargetDir(3)) +
                                                ": not enough space"));
  EXPECT_TRUE(Contains(xfer->stderr_text(), "pre-flight failed; nothing was transferred"));
  ExpectNothingArrived(cluster);
}

TEST_F(PreflightFailure, UnreachableHost) {
  auto xfer = cluster_.StartXfer({"--timeout", "10", cluster_.Operand(0, cluster_.Dir("src/data")),
                                  cluster_.Operand(1, cluster_.TargetDir(1)),
                                  "root@10.99.0.200:" + cluster_.TargetDir(2)});
  EXPECT_EQ(xfer->Wait(std::chrono::seconds(120)), 1);
  EXPECT_TRUE(Contains(xfer->stderr_text(), "target root@10.99.0.200:" + cluster_.TargetDir(2)));
  EXPECT_TRUE(Contains(xfer->stderr_text(), "nothing was transferred"));
  EXPECT_EQ(ListDir(cluster_.TargetDir(1)), Names{});
}

TEST_F(PreflightFailure, MissingBinary) {
  std::vector<std::string> argv{kXfer,
                                "--ssh",
                                cluster_.SshOption(),
                                "--bin-dir",
                                "/nonexistent/bin",
                                cluster_.Operand(0, cluster_.Dir("src/data"))};
  argv = Concat(argv, cluster_.AllTargets());
  ChildProcess xfer(cluster_.lan().Exec(0, argv));
  EXPECT_EQ(xfer.Wait(std::chrono::seconds(120)), 1);
  EXPECT_TRUE(Contains(xfer.stderr_text(), "/nonexistent/bin/xfer-recv"));
  EXPECT_TRUE(Contains(xfer.stderr_text(), "nothing was transferred"));
  ExpectNothingArrived(cluster_);
}

// src/data: 24 MiB of random data behind a 100 Mbit/s link out of host 0, about 6 s for three
// copies: long enough to act while a transfer runs.
void PrepareSlowTransfer(Cluster* cluster) {
  ASSERT_TRUE(cli::RunCommand(cluster->lan().Exec(
                                  0, {"/usr/sbin/tc", "qdisc", "add", "dev", "eth0", "root", "tbf",
                                      "rate", "100mbit", "burst", "64kb", "latency", "50ms"}))
                  .ok());
  std::filesystem::create_directory(cluster->Dir("src/data"));
  WriteRandomFile(cluster->Dir("src/data/blob"), 24 << 20);
}

// The pid of the xfer-recv whose command line has the word `dir`, or -1.
pid_t FindReceiver(const std::string& dir) {
  for (pid_t pid : ProcessesMentioning("xfer-recv")) {
    if (Contains(CommandLineOf(pid), std::string(1, '\0') + dir + std::string(1, '\0'))) {
      return pid;
    }
  }
  return -1;
}

TEST(Orchestrator, TargetKilledMidTransferFailsAloneAndTheSummarySaysWhich) {
  Cluster cluster;
  SKIP_UNLESS_READY(cluster);
  // Target 2's receiver is surely mid-transfer when it is killed.
  PrepareSlowTransfer(&cluster);
  auto xfer = cluster.StartXfer(Concat({"--fanout", "parallel", "--json", "--idle-timeout", "10",
                                        cluster.Operand(0, cluster.Dir("src/data"))},
                                       cluster.AllTargets()));
  std::string label = cluster.Operand(2, cluster.TargetDir(2));
  bool killed = false;
  for (std::string line;
       !killed && !(line = xfer->ReadStdoutLine(std::chrono::seconds(60))).empty();) {
    if (line.find("\"event\":\"progress\",\"target\":\"" + label + "\",\"bytes\":") ==
            std::string::npos ||
        line.find("\"bytes\":0,") != std::string::npos) {
      continue;
    }
    pid_t pid = FindReceiver(cluster.TargetDir(2));
    ASSERT_GT(pid, 0);
    kill(pid, SIGKILL);
    killed = true;
  }
  ASSERT_TRUE(killed) << "target 2 never reported progress: " << xfer->stdout_text()
                      << xfer->stderr_text();
  EXPECT_EQ(xfer->Wait(std::chrono::seconds(120)), 1);
  EXPECT_EQ(CompareTrees(cluster.Dir("src/data"), cluster.TargetDir(1) + "/data"), Names{});
  EXPECT_EQ(CompareTrees(cluster.Dir("src/data"), cluster.TargetDir(3) + "/data"), Names{});
  EXPECT_EQ(ListDirIgnoringStaging(cluster.TargetDir(2)), Names{});
  EXPECT_TRUE(Contains(xfer->stdout_text(),
                       "{\"event\":\"result\",\"target\":\"" + label + "\",\"ok\":false"));
  EXPECT_TRUE(
      Contains(xfer->stdout_text(),
               "{\"event\":\"summary\",\"ok\":false,\"targets\":3,\"verified\":2,\"failed\":1"));
}

// What happens to the middle target (host 2) once its receiver is busy.
enum class MiddleFault {
  kDiskFills,  // its disk fills up
  kKilled,     // its xfer-recv is killed -9
  kLinkDown,   // its host's link goes down
};

// Three targets, `fanout`, and `fault` striking the middle one while it receives: the other two
// verify, and the summary and the result event name the middle one and `reason`.
void ExpectOthersVerifyWhenTheMiddleTargetFails(const std::string& fanout, MiddleFault fault,
                                                const std::string& reason) {
  Cluster cluster(fault == MiddleFault::kDiskFills ? 2 : 0, "64m");
  SKIP_UNLESS_READY(cluster);
  PrepareSlowTransfer(&cluster);
  auto xfer = cluster.StartXfer(
      Concat({"--fanout", fanout, "--json", "--idle-timeout", "5", "--stall-timeout", "3",
              cluster.Operand(0, cluster.Dir("src/data"))},
             cluster.AllTargets()));
  std::string label = cluster.Operand(2, cluster.TargetDir(2));
  bool struck = false;
  for (std::string line;
       !struck && !(line = xfer->ReadStdoutLine(std::chrono::seconds(60))).empty();) {
    if (!Contains(line, "\"event\":\"progress\",\"target\":\"" + label + "\",\"bytes\":") ||
        Contains(line, "\"bytes\":0,")) {
      continue;
    }
    if (fault == MiddleFault::kDiskFills) {
      ASSERT_GT(cluster.small_disk()->FillUp("filler"), 0u);
    } else if (fault == MiddleFault::kKilled) {
      pid_t pid = FindReceiver(cluster.TargetDir(2));
      ASSERT_GT(pid, 0);
      kill(pid, SIGKILL);
    } else {
      ASSERT_TRUE(
          cli::RunCommand(cluster.lan().Exec(2, {"/usr/sbin/ip", "link", "set", "eth0", "down"}))
              .ok());
    }
    struck = true;
  }
  ASSERT_TRUE(struck) << "target 2 never reported progress: " << xfer->stdout_text()
                      << xfer->stderr_text();
  EXPECT_EQ(xfer->Wait(std::chrono::seconds(180)), 1);
  const std::string& events = xfer->stdout_text();
  const std::string& errors = xfer->stderr_text();
  EXPECT_EQ(CompareTrees(cluster.Dir("src/data"), cluster.TargetDir(1) + "/data"), Names{})
      << errors;
  EXPECT_EQ(CompareTrees(cluster.Dir("src/data"), cluster.TargetDir(3) + "/data"), Names{})
      << errors;
  EXPECT_FALSE(std::filesystem::exists(cluster.TargetDir(2) + "/data"));
  EXPECT_TRUE(Contains(events, "{\"event\":\"result\",\"target\":\"" + label + "\",\"ok\":false"))
      << events;
  EXPECT_TRUE(Contains(events,
                       "{\"event\":\"summary\",\"ok\":false,\"targets\":3,\"verified\":2,"
                       "\"failed\":1"))
      << events;
  // The result event and the summary's failures name it and say why.
  for (const std::string& start : {"{\"event\":\"result\",\"target\":\"" + label,
                                   "\"failures\":[{\"target\":\"" + label + "\",\"error\":\""}) {
    size_t at = events.find(start);
    ASSERT_NE(at, std::string::npos) << start << " not in " << events;
    EXPECT_TRUE(Contains(events.substr(at, events.find('\n', at) - at), reason)) << events;
  }
  // A dead hop: the third target was fed again, around it.
  if (fanout == "chain" && fault != MiddleFault::kDiskFills) {
    EXPECT_TRUE(Contains(events, "\"relinked_around\":\"" + label + "\"")) << events;
  }
}

const std::string kNoSpace = "No space left on device";

TEST(OrchestratorFaults, ChainMiddleDiskFills) {
  ExpectOthersVerifyWhenTheMiddleTargetFails("chain", MiddleFault::kDiskFills, kNoSpace);
}

TEST(OrchestratorFaults, ParallelMiddleDiskFills) {
  ExpectOthersVerifyWhenTheMiddleTargetFails("parallel", MiddleFault::kDiskFills, kNoSpace);
}

TEST(OrchestratorFaults, ChainMiddleKilledIsReLinkedAround) {
  ExpectOthersVerifyWhenTheMiddleTargetFails("chain", MiddleFault::kKilled, "killed");
}

TEST(OrchestratorFaults, ParallelMiddleKilled) {
  ExpectOthersVerifyWhenTheMiddleTargetFails("parallel", MiddleFault::kKilled, "killed");
}

TEST(OrchestratorFaults, ChainMiddleLinkDownIsReLinkedAround) {
  ExpectOthersVerifyWhenTheMiddleTargetFails("chain", MiddleFault::kLinkDown,
                                             "lost contact: no word from root@10.99.0.3 for 15 s");
}

TEST(OrchestratorFaults, ParallelMiddleLinkDown) {
  ExpectOthersVerifyWhenTheMiddleTargetFails("parallel", MiddleFault::kLinkDown,
                                             "lost contact: no word from root@10.99.0.3 for 15 s");
}

TEST(Orchestrator, ATargetKilledMidTransferIsResumedByASecondRun) {
  Cluster cluster;
  SKIP_UNLESS_READY(cluster);
  PrepareSlowTransfer(&cluster);
  WriteRandomFile(cluster.Dir("src/data/blob2"), 24 << 20);  // 4 s at 100 Mbit/s
  std::string source = cluster.Operand(0, cluster.Dir("src/data"));
  std::string label = cluster.Operand(1, cluster.TargetDir(1));
  auto first = cluster.StartXfer({"--resume", "--json", "--idle-timeout", "10", source, label});
  // Killed after two progress reports, a second apart: it recorded what it held by then.
  int reports = 0;
  for (std::string line;
       reports < 2 && !(line = first->ReadStdoutLine(std::chrono::seconds(60))).empty();) {
    if (Contains(line, "\"event\":\"progress\"") && !Contains(line, "\"bytes\":0,")) ++reports;
  }
  ASSERT_EQ(reports, 2) << first->stdout_text() << first->stderr_text();
  pid_t pid = FindReceiver(cluster.TargetDir(1));
  ASSERT_GT(pid, 0);
  kill(pid, SIGKILL);
  EXPECT_EQ(first->Wait(std::chrono::seconds(120)), 1);
  EXPECT_EQ(ListDirIgnoringStaging(cluster.TargetDir(1)), Names{});

  auto second = cluster.StartXfer({"--resume", "--json", source, label});
  ASSERT_EQ(second->Wait(std::chrono::seconds(120)), 0)
      << second->stdout_text() << second->stderr_text();
  EXPECT_EQ(CompareTrees(cluster.Dir("src/data"), cluster.TargetDir(1) + "/data"), Names{});
  EXPECT_EQ(ListDir(cluster.TargetDir(1)), Names{"data"}) << "staging or journal left";
  EXPECT_TRUE(Contains(second->stdout_text(), "{\"event\":\"result\",\"target\":\"" + label +
                                                  "\",\"ok\":true,\"bytes\":"));
  EXPECT_FALSE(Contains(second->stdout_text(), "\"resumed_bytes\":0,")) << second->stdout_text();
}

TEST(Orchestrator, StoppedXferStopsTheRemoteProgramsAndSaysWhatTheyKept) {
  Cluster cluster;
  SKIP_UNLESS_READY(cluster);
  PrepareSlowTransfer(&cluster);
  auto xfer = cluster.StartXfer(
      Concat({"--json", cluster.Operand(0, cluster.Dir("src/data"))}, cluster.AllTargets()));
  bool moving = false;
  for (std::string line;
       !moving && !(line = xfer->ReadStdoutLine(std::chrono::seconds(60))).empty();) {
    moving = line.find("\"event\":\"progress\"") != std::string::npos &&
             line.find("\"bytes\":0,") == std::string::npos;
  }
  ASSERT_TRUE(moving) << xfer->stdout_text() << xfer->stderr_text();
  xfer->Kill(SIGTERM);
  EXPECT_EQ(xfer->Wait(std::chrono::seconds(60)), 1);
  // Each target's verdict: what it kept, where, and how to continue.
  for (int i = 1; i <= Cluster::kTargets; ++i) {
    EXPECT_TRUE(std::regex_search(
        xfer->stdout_text(),
        std::regex("\"event\":\"result\",\"target\":\"" + cluster.Operand(i, cluster.TargetDir(i)) +
                   "\",\"ok\":false,.*\"error\":\"interrupted: [0-9.]+ MB kept on " +
                   cluster.Operand(i, cluster.TargetDir(i)) +
                   "; run the same command again to continue\",\"kept_bytes\":[1-9]")))
        << "target " << i << ": " << xfer->stdout_text();
  }
  // The receivers saw their stdin end, cancelled and kept their staging directory and journal.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int i = 1; i <= Cluster::kTargets; ++i) {
    while (FindReceiver(cluster.TargetDir(i)) > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    EXPECT_EQ(FindReceiver(cluster.TargetDir(i)), -1) << "target " << i << " still receiving";
    EXPECT_EQ(ListDirIgnoringStaging(cluster.TargetDir(i)), Names{}) << "target " << i;
    EXPECT_EQ(ListDir(cluster.TargetDir(i)).size(), 2u) << "target " << i << " kept nothing";
  }
}

TEST(Orchestrator, OpenFirewallLetsTheSenderThroughADefaultDropPolicyAndCleansUp) {
  Cluster cluster;
  SKIP_UNLESS_READY(cluster);
  // Target 1 drops everything but ssh (how xfer reaches it) and loopback.
  std::string ruleset = cluster.Dir("drop.nft");
  WriteFile(ruleset,
            "table inet filter {\n"
            "  chain input {\n"
            "    type filter hook input priority 0; policy drop;\n"
            "    iif lo accept\n"
            "    ct state established,related accept\n"
            "    tcp dport 2222 accept\n"
            "  }\n"
            "}\n");
  ASSERT_TRUE(cli::RunCommand(cluster.lan().Exec(1, {"/usr/sbin/nft", "-f", ruleset})).ok());
  auto list_ruleset = [&] {
    ChildProcess nft(cluster.lan().Exec(1, {"/usr/sbin/nft", "list", "ruleset"}));
    nft.Wait(std::chrono::seconds(30));
    return nft.stdout_text();
  };
  std::string before = list_ruleset();
  std::filesystem::create_directory(cluster.Dir("src/data"));
  WriteFile(cluster.Dir("src/data/f"), "through the firewall");

  auto blocked = cluster.StartXfer({"--timeout", "5", "--idle-timeout", "5",
                                    cluster.Operand(0, cluster.Dir("src/data")),
                                    cluster.Operand(1, cluster.TargetDir(1))});
  EXPECT_EQ(blocked->Wait(std::chrono::seconds(120)), 1) << "the policy should drop the transfer";
  EXPECT_EQ(ListDirIgnoringStaging(cluster.TargetDir(1)), Names{});

  auto xfer = cluster.StartXfer({"--open-firewall", cluster.Operand(0, cluster.Dir("src/data")),
                                 cluster.Operand(1, cluster.TargetDir(1))});
  ASSERT_EQ(xfer->Wait(std::chrono::seconds(120)), 0) << xfer->stderr_text();
  EXPECT_EQ(CompareTrees(cluster.Dir("src/data"), cluster.TargetDir(1) + "/data"), Names{});
  EXPECT_EQ(list_ruleset(), before) << "the rule must be gone after the transfer";
}

}  // namespace
}  // namespace xfer::testing
