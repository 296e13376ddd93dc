// xfer-send --preflight and xfer-recv --preflight: the real programs, checking and not sending.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <regex>

#include "child_process.h"
#include "program_paths.h"
#include "temp_dir.h"
#include "tmpfs_mount.h"
#include "transfer_harness.h"

namespace xfer::testing {
namespace {

// What a preflight run printed and how it ended.
struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs program with args (stdin closed) to its end.
Outcome RunProgram(const char* program, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {program};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess child(argv);
  child.CloseStdin();
  Outcome outcome;
  outcome.exit_code = child.Wait(std::chrono::seconds(30));
  outcome.out = child.stdout_text();
  outcome.err = child.stderr_text();
  return outcome;
}

Outcome SendPreflight(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"--preflight"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(XferSendPath(), argv);
}

Outcome RecvPreflight(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"--preflight"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(XferRecvPath(), argv);
}

// The head every successful preflight line starts with.
const char kOkHead[] = R"(\{"preflight":"ok","version":"[0-9]+\.[0-9]+\.[0-9]+","protocol":2,)";

class SenderPreflightTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mkdir(tmp_.Sub("data").c_str(), 0755), 0);
    ASSERT_EQ(mkdir(tmp_.Sub("data/sub").c_str(), 0755), 0);
    WriteFile(tmp_.Sub("data/a.txt"), "hello");
    WriteFile(tmp_.Sub("data/sub/b.bin"), std::string(1000, 'b'));
    WriteFile(tmp_.Sub("single.txt"), "abc");
  }

  TempDir tmp_;
};

TEST_F(SenderPreflightTest, ReportsCountsBytesAndTopNames) {
  Outcome run = SendPreflight({tmp_.Sub("data"), tmp_.Sub("single.txt")});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  // data, data/a.txt, data/sub, data/sub/b.bin, single.txt; 5 + 1000 + 3 bytes of content.
  EXPECT_TRUE(std::regex_match(
      run.out, std::regex(std::string(kOkHead) +
                          R"("entries":5,"files":3,"bytes":1008,"allocated_bytes":[0-9]+,)"
                          R"("names":\["data","single.txt"\]\}\n)")))
      << run.out;
  EXPECT_EQ(run.err, "");
}

TEST_F(SenderPreflightTest, EscapesQuotesAndNewlinesInNames) {
  std::string odd = tmp_.Sub("say \"hi\"\nthere");
  WriteFile(odd, "x");
  Outcome run = SendPreflight({odd});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find(R"("names":["say \"hi\"\u000athere"]})"), std::string::npos) << run.out;
  EXPECT_EQ(run.out.find('\n'), run.out.size() - 1) << "one line only: " << run.out;
}

TEST_F(SenderPreflightTest, MissingSourceFailsNamingIt) {
  Outcome run = SendPreflight({tmp_.Sub("data"), tmp_.Sub("no-such-dir")});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_TRUE(run.err.starts_with("xfer-send: error: ")) << run.err;
  EXPECT_NE(run.err.find(tmp_.Sub("no-such-dir") + ": No such file or directory"),
            std::string::npos)
      << run.err;
}

TEST_F(SenderPreflightTest, ASendWithoutPreflightStillNeedsTo) {
  Outcome run = RunProgram(XferSendPath(), {tmp_.Sub("data")});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--to is required"), std::string::npos) << run.err;
}

class ReceiverPreflightTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(mkdir(dst_.c_str(), 0755), 0); }

  TempDir tmp_;
  std::string dst_ = tmp_.Sub("dst");
};

TEST_F(ReceiverPreflightTest, ReportsFreeSpaceAndLeavesDirAsItWas) {
  Outcome run = RecvPreflight({"--name", "data", "--need", "1M", "--entries", "10", dst_});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::smatch match;
  ASSERT_TRUE(std::regex_match(run.out, match,
                               std::regex(std::string(kOkHead) + R"("free_bytes":([0-9]+)\}\n)")))
      << run.out;
  EXPECT_GT(std::stoull(match[1]), 1ull << 20);
  EXPECT_TRUE(ListDir(dst_).empty()) << "the probe staging directory must be gone";
}

TEST_F(ReceiverPreflightTest, MissingDirFailsNamingIt) {
  std::string missing = tmp_.Sub("no-such-dir");
  Outcome run = RecvPreflight({missing});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "xfer-recv: error: destination " + missing + ": No such file or directory\n");
}

TEST_F(ReceiverPreflightTest, DirThatIsAFileFailsNamingIt) {
  std::string file = tmp_.Sub("file");
  WriteFile(file, "x");
  Outcome run = RecvPreflight({file});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "xfer-recv: error: destination " + file + " is not a directory\n");
}

TEST_F(ReceiverPreflightTest, ReadOnlyDirFailsNamingIt) {
  std::string error;
  auto readonly = testing::TmpfsMount::Mount(dst_, "size=1m", &error, MS_RDONLY);
  if (!readonly) GTEST_SKIP() << error;
  Outcome run = RecvPreflight({dst_});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find(dst_), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("Read-only file system"), std::string::npos) << run.err;
}

TEST_F(ReceiverPreflightTest, ExistingTargetFailsUnlessOverwrite) {
  ASSERT_EQ(mkdir((dst_ + "/data").c_str(), 0755), 0);
  Outcome refused = RecvPreflight({"--name", "other", "--name", "data", dst_});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.err, "xfer-recv: error: destination " + dst_ + "/data already exists\n");

  Outcome allowed = RecvPreflight({"--name", "other", "--name", "data", "--overwrite", dst_});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_EQ(ListDir(dst_), std::vector<std::string>{"data"});
}

TEST_F(ReceiverPreflightTest, NameThatIsAPathIsRefused) {
  Outcome run = RecvPreflight({"--name", "../etc", dst_});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("'../etc' is not a top-level entry name"), std::string::npos) << run.err;
}

TEST_F(ReceiverPreflightTest, NotEnoughSpaceFailsWithTheSameMarginAsATransfer) {
  std::string error;
  auto small = testing::TmpfsMount::Mount(dst_, "size=1m", &error);
  if (!small) GTEST_SKIP() << error;
  Outcome bytes = RecvPreflight({"--name", "data", "--need", "4M", dst_});
  EXPECT_EQ(bytes.exit_code, 1);
  EXPECT_TRUE(std::regex_match(bytes.err, std::regex("xfer-recv: error: not enough space in " +
                                                     dst_ + ": need 4\\.0 MiB, .* free\n")))
      << bytes.err;
  // No file data, but 1000 entries: a transfer counts 4 KiB of metadata each.
  Outcome entries = RecvPreflight({"--name", "data", "--entries", "1000", dst_});
  EXPECT_EQ(entries.exit_code, 1);
  EXPECT_NE(entries.err.find("need 3.9 MiB"), std::string::npos) << entries.err;
  EXPECT_EQ(RecvPreflight({"--name", "data", "--need", "100K", dst_}).exit_code, 0);
  EXPECT_TRUE(ListDir(dst_).empty());
}

TEST_F(ReceiverPreflightTest, PreflightOptionsNeedPreflight) {
  Outcome run = RunProgram(XferRecvPath(), {"--name", "data", dst_});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--preflight"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace xfer::testing
