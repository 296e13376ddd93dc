// When whoever started a transfer goes away, nothing keeps running and nothing is left behind:
// xfer-recv stops once the reader of its stdout is gone (a hand pipeline whose sender failed, a
// closed ssh channel), and the programs an `xfer` killed with SIGKILL started stop on their own.
// Real programs throughout: bash pipelines, the xfer orchestrator, a real sshd.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "process_table.h"
#include "program_paths.h"
#include "shell_quote.h"
#include "sshd_server.h"
#include "temp_dir.h"
#include "text_match.h"
#include "transfer_harness.h"

namespace xfer::testing {
namespace {

using Names = std::vector<std::string>;
using std::chrono::seconds;

const std::string kXfer = XFER_ORCHESTRATOR_BIN_PATH;

// At 1 MiB/s, 32 MiB take half a minute: any test below that ends sooner was stopped.
constexpr char kSlowRate[] = "1M";
constexpr size_t kSlowSize = size_t{32} << 20;

std::string Quoted(const std::string& word) { return cli::ShellCommand({word}); }

// The xfer-send and xfer-recv processes whose command line mentions `needle` (an ssh client
// carrying such a command line is not one of them).
std::vector<pid_t> TransferProgramsMentioning(const std::string& needle) {
  std::vector<pid_t> programs;
  for (pid_t pid : ProcessesMentioning(needle)) {
    std::string command = CommandLineOf(pid);
    std::string program = std::filesystem::path(command.substr(0, command.find('\0'))).filename();
    if (program == "xfer-send" || program == "xfer-recv") programs.push_back(pid);
  }
  return programs;
}

// True once no transfer program mentioning needle runs, false if some still do at the deadline.
bool TransferProgramsGoneWithin(const std::string& needle, seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!TransferProgramsMentioning(needle).empty()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// What a killed transfer may leave in its destination: nothing, or staging directories kept
// with their journal for resume (".xfer-staging-X" beside ".xfer-staging-X.journal").
::testing::AssertionResult NothingOrResumableStaging(const std::string& dir) {
  Names names = ListDir(dir);
  for (const std::string& name : names) {
    bool staging = name.rfind(".xfer-staging-", 0) == 0;
    bool journal = name.size() > 8 && name.compare(name.size() - 8, 8, ".journal") == 0;
    std::string partner = journal ? name.substr(0, name.size() - 8) : name + ".journal";
    if (!staging || std::find(names.begin(), names.end(), partner) == names.end()) {
      return ::testing::AssertionFailure() << dir << " holds " << name;
    }
  }
  return ::testing::AssertionSuccess() << dir << " holds " << names.size() << " entries";
}

class CallerGone : public ::testing::Test {
 protected:
  CallerGone() {
    std::filesystem::create_directories(dir_.Sub("src/data"));
    std::filesystem::create_directory(dir_.Sub("dst"));
  }

  // `bash -c script`; the script ends by printing the pipeline's exit statuses on stderr.
  static std::unique_ptr<ChildProcess> StartBash(const std::string& script) {
    return std::make_unique<ChildProcess>(std::vector<std::string>{
        "/bin/bash", "-c", script + "; echo \"statuses: ${PIPESTATUS[*]}\" >&2"});
  }

  // Runs xfer with --json and returns once a target reported bytes moving; null (with the
  // failure added) if none did.
  std::unique_ptr<ChildProcess> StartXferMidTransfer(const std::vector<std::string>& args) {
    std::vector<std::string> argv{kXfer, "--json", "--limit-rate", kSlowRate};
    argv.insert(argv.end(), args.begin(), args.end());
    auto xfer = std::make_unique<ChildProcess>(argv);
    for (std::string line; (line = xfer->ReadStdoutLine(seconds(60))) != "";) {
      if (Contains(line, "\"event\":\"progress\"") && !Contains(line, "\"bytes\":0,")) return xfer;
    }
    ADD_FAILURE() << "no progress: " << xfer->stdout_text() << xfer->stderr_text();
    return nullptr;
  }

  TempDir dir_;
};

TEST_F(CallerGone, HandPipelineWhoseSenderHasABadOptionEndsAtOnceWithDirUnchanged) {
  WriteFile(dir_.Sub("src/data/file"), "content");
  auto pipeline =
      StartBash(Quoted(XferRecvPath()) + " --timeout 300 " + Quoted(dir_.Sub("dst")) +
                " | { read -r t; echo \"$t\" | " + Quoted(XferSendPath()) +
                " --limt-rate 1M --to 127.0.0.1 " + Quoted(dir_.Sub("src/data")) + "; }");
  // The receiver's --timeout is 300 s: only its noticing that nobody reads on ends it sooner.
  ASSERT_NE(pipeline->Wait(seconds(2)), -1) << "still waiting after 2 s";
  // xfer-recv's 1 (cancelled, nothing committed), then the sender's 2 (a usage error).
  EXPECT_TRUE(Contains(pipeline->stderr_text(), "statuses: 1 2"));
  EXPECT_EQ(ListDir(dir_.Sub("dst")), Names{});
}

TEST_F(CallerGone, ReceiverWhoseStdoutReaderLeavesMidTransferStopsWithDirUnchanged) {
  WriteRandomFile(dir_.Sub("src/data/blob"), kSlowSize);
  // The reader hands the ticket on, waits for the first progress line (bytes are moving), then
  // closes its end of the pipe and waits for the sender, which fails once the receiver stopped.
  auto pipeline =
      StartBash(Quoted(XferRecvPath()) + " --json " + Quoted(dir_.Sub("dst")) +
                " | { read -r t; echo \"$t\" | " + Quoted(XferSendPath()) + " --limit-rate " +
                kSlowRate + " --to 127.0.0.1 " + Quoted(dir_.Sub("src/data")) +
                " & while read -r line; do [[ $line == *'\"bytes\":'[1-9]* ]] && break; done; "
                "exec 0<&-; wait; }");
  ASSERT_NE(pipeline->Wait(seconds(20)), -1) << "the transfer went on without a reader";
  EXPECT_TRUE(Contains(pipeline->stderr_text(), "statuses: 1 0"));  // xfer-recv failed
  // Nothing in sight: what arrived is kept, hidden, for the same command run again.
  EXPECT_TRUE(NothingOrResumableStaging(dir_.Sub("dst")));
}

TEST_F(CallerGone, XferKilledMidTransferOnLocalhostLeavesNoProgramsRunning) {
  WriteRandomFile(dir_.Sub("src/data/blob"), kSlowSize);
  auto xfer =
      StartXferMidTransfer({"localhost:" + dir_.Sub("src/data"), "localhost:" + dir_.Sub("dst")});
  ASSERT_TRUE(xfer);
  xfer->Kill(SIGKILL);
  EXPECT_TRUE(TransferProgramsGoneWithin(dir_.path(), seconds(5)));
  EXPECT_TRUE(NothingOrResumableStaging(dir_.Sub("dst")));
}

// A source whose xfer-send stops (SIGSTOP) mid-transfer: the receiver gives up after its idle
// timeout, and xfer does not wait for the stopped sender for ever (found by the outside review:
// still waiting after 836 s).
TEST_F(CallerGone, XferWhoseSenderStopsEndsOnceItsReceiversGaveUp) {
  WriteRandomFile(dir_.Sub("src/data/blob"), kSlowSize);
  auto xfer = StartXferMidTransfer(
      {"--idle-timeout", "6", "localhost:" + dir_.Sub("src/data"), "localhost:" + dir_.Sub("dst")});
  ASSERT_TRUE(xfer);
  pid_t sender = 0;
  for (pid_t pid : TransferProgramsMentioning(dir_.Sub("src/data"))) {
    if (Contains(CommandLineOf(pid), "xfer-send")) sender = pid;
  }
  ASSERT_GT(sender, 0);
  ASSERT_EQ(kill(sender, SIGSTOP), 0);
  int code = xfer->Wait(seconds(120));
  kill(sender, SIGCONT);
  ASSERT_NE(code, -1) << "xfer still waits for its stopped sender";
  EXPECT_EQ(code, 1) << xfer->stderr_text();
  EXPECT_TRUE(TransferProgramsGoneWithin(dir_.path(), seconds(20)));
  EXPECT_TRUE(NothingOrResumableStaging(dir_.Sub("dst")));
}

TEST_F(CallerGone, XferKilledMidTransferOverSshLeavesNoProgramsRunning) {
  SshdServer sshd;
  if (!sshd.status().ok()) GTEST_SKIP() << sshd.status().message();
  WriteRandomFile(dir_.Sub("src/data/blob"), kSlowSize);
  std::string bin_dir = std::filesystem::path(XferRecvPath()).parent_path();
  auto xfer = StartXferMidTransfer({"--ssh", cli::ShellCommand(sshd.SshCommand()), "--bin-dir",
                                    bin_dir, "localhost:" + dir_.Sub("src/data"),
                                    "root@127.0.0.1:" + dir_.Sub("dst")});
  ASSERT_TRUE(xfer);
  xfer->Kill(SIGKILL);
  EXPECT_TRUE(TransferProgramsGoneWithin(dir_.path(), seconds(5)));
  EXPECT_TRUE(NothingOrResumableStaging(dir_.Sub("dst")));
}

}  // namespace
}  // namespace xfer::testing
