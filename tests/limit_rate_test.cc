// --limit-rate end to end: a limited transfer still completes and verifies, a rate too low for
// the idle timeout is refused up front, a cancel cuts the wait for credit short, and `xfer`
// passes the flag (and its config key) on to xfer-send. How close the rate is kept is measured by
// bench/limit_rate.sh, not asserted here.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "program_paths.h"
#include "temp_dir.h"
#include "text_match.h"
#include "transfer_harness.h"
#include "tree_builder.h"
#include "tree_compare.h"
#include "xfer/receiver.h"
#include "xfer/sender.h"

namespace xfer::testing {
namespace {

using Names = std::vector<std::string>;

class LimitRateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.Sub("src/data"));
    std::filesystem::create_directory(dir_.Sub("dst"));
    TestTree tree;
    BuildTestTree(dir_.Sub("src/data"), "tree", &tree);
    // Incompressible, so that several frames cross the limited wire.
    WriteRandomFile(dir_.Sub("src/data/random.bin"), 6 << 20);
  }

  TempDir dir_;
};

TEST_F(LimitRateTest, LimitedTransferCompletesAndVerifies) {
  std::string ticket;
  auto receiver = StartReceiver(dir_.Sub("dst"), {}, &ticket);
  auto sender = StartSender(ticket, {dir_.Sub("src/data")}, {"--limit-rate", "20M", "--json"});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  EXPECT_EQ(CompareTrees(dir_.Sub("src/data"), dir_.Sub("dst/data")), Names{});
  EXPECT_TRUE(Contains(sender->stdout_text(), "\"stream_digest\""));
}

TEST_F(LimitRateTest, RateTooLowForTheIdleTimeoutIsRefusedBeforeConnecting) {
  std::string ticket;
  auto receiver = StartReceiver(dir_.Sub("dst"), {}, &ticket);
  // 1 MiB chunks at 1 KiB/s: 1025 s per frame, against a 60 s idle timeout.
  auto sender =
      StartSender(ticket, {dir_.Sub("src/data")}, {"--limit-rate", "1K", "--idle-timeout", "60"});
  EXPECT_EQ(sender->Wait(), 1);
  EXPECT_TRUE(Contains(sender->stderr_text(),
                       "xfer-send: error: rate limit of 1.0 KiB/s is too low for 1.0 MiB chunks: "
                       "each would take 1025 s to send, more than half the receivers' 60 s idle "
                       "timeout; allow at least 34.1 KiB/s, or send smaller chunks"));
  EXPECT_EQ(ListDir(dir_.Sub("dst")), Names{});
}

TEST_F(LimitRateTest, SmallerChunksMakeALowRateAcceptable) {
  std::filesystem::create_directories(dir_.Sub("small/data"));
  WriteRandomFile(dir_.Sub("small/data/random.bin"), 96 << 10);
  std::string ticket;
  auto receiver = StartReceiver(dir_.Sub("dst"), {}, &ticket);
  // 34 KiB/s is refused for 1 MiB chunks (they need 34.1) but fits 64 KiB ones (2 s a frame).
  auto sender =
      StartSender(ticket, {dir_.Sub("small/data")}, {"--limit-rate", "34K", "--chunk-size", "64K"});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  EXPECT_EQ(CompareTrees(dir_.Sub("small/data"), dir_.Sub("dst/data")), Names{});
}

TEST_F(LimitRateTest, MalformedRateIsAUsageError) {
  for (const char* rate : {"fast", "0", "10X"}) {
    ChildProcess sender(
        {XferSendPath(), "--to", "127.0.0.1", "--limit-rate", rate, dir_.Sub("src/data")});
    sender.CloseStdin();
    EXPECT_EQ(sender.Wait(std::chrono::seconds(30)), 2) << rate;
    EXPECT_TRUE(Contains(sender.stderr_text(),
                         "--limit-rate: '" + std::string(rate) + "' is not a rate like 100M"));
  }
}

// The first frame (1 MiB of text, compressed to a few hundred bytes) fits the burst and goes at
// once; the progress report after it cancels, while the second (1 MiB of random bytes, sent raw)
// has about 10 s to wait for its credit: that wait is what must notice.
TEST_F(LimitRateTest, CancelStopsASenderWaitingForCredit) {
  std::filesystem::remove_all(dir_.Sub("src/data"));
  std::filesystem::create_directories(dir_.Sub("src/data"));
  std::string content;
  while (content.size() < (1 << 20)) content += "the same line of text, again and again\n";
  std::mt19937_64 random(1);
  while (content.size() < (2 << 20)) content.push_back(static_cast<char>(random()));
  WriteFile(dir_.Sub("src/data/file"), content);

  ReceiveOptions receive;
  receive.dest_dir = dir_.Sub("dst");
  receive.listen_address = "127.0.0.1";
  receive.timeout = std::chrono::seconds(60);
  std::unique_ptr<Receiver> receiver;
  ASSERT_TRUE(Receiver::Listen(receive, &receiver).ok());
  Status received;
  Report receive_report;
  std::thread receiving([&] { received = receiver->Run(&receive_report); });

  CancelToken cancel;
  SendOptions send;
  send.destinations = {{"127.0.0.1", receiver->ticket()}};
  send.paths = {dir_.Sub("src/data")};
  send.level = 1;               // not adaptive, which sends raw to this host
  send.limit_rate = 100 << 10;  // a burst of 10 KiB
  send.idle_timeout = std::chrono::seconds(60);
  send.cancel = &cancel;
  send.progress_interval = std::chrono::milliseconds(0);
  int reports = 0;
  send.progress = [&](const Progress&) {
    ++reports;
    cancel.Cancel();
  };
  Report report;
  Status status = Send(send, &report);
  receiving.join();
  EXPECT_EQ(reports, 1);
  EXPECT_EQ(status.code(), Code::kCancelled) << status.message();
  EXPECT_EQ(status.message(), "waiting for the rate limit: cancelled");
  EXPECT_FALSE(received.ok());
  EXPECT_EQ(ListDirIgnoringStaging(dir_.Sub("dst")), Names{});
}

const std::string kXfer = XFER_ORCHESTRATOR_BIN_PATH;

TEST_F(LimitRateTest, XferPassesTheLimitToTheSender) {
  ChildProcess xfer({kXfer, "--verbose", "--limit-rate", "50M", "localhost:" + dir_.Sub("src/data"),
                     "localhost:" + dir_.Sub("dst")});
  ASSERT_EQ(xfer.Wait(std::chrono::seconds(60)), 0) << xfer.stderr_text();
  EXPECT_EQ(CompareTrees(dir_.Sub("src/data"), dir_.Sub("dst/data")), Names{});
  EXPECT_TRUE(Contains(xfer.stderr_text(), "xfer-send: limiting the wire to 50.0 MiB/s"));
}

// xfer-send would refuse it as well, but only once every receiver was started and waiting.
TEST_F(LimitRateTest, XferRefusesARateTooLowBeforeStartingAnything) {
  ChildProcess xfer({kXfer, "--limit-rate", "1K", "localhost:" + dir_.Sub("src/data"),
                     "localhost:" + dir_.Sub("dst")});
  EXPECT_EQ(xfer.Wait(std::chrono::seconds(30)), 2);
  EXPECT_TRUE(Contains(xfer.stderr_text(),
                       "xfer: error: --limit-rate: rate limit of 1.0 KiB/s is too low for 1.0 MiB "
                       "chunks: each would take 1025 s to send"));
  EXPECT_EQ(ListDir(dir_.Sub("dst")), Names{});
}

TEST_F(LimitRateTest, XferReadsTheLimitFromItsConfigFile) {
  WriteFile(dir_.Sub("xfer.conf"), "limit-rate = 1K\n");
  ChildProcess xfer({kXfer, "--config", dir_.Sub("xfer.conf"), "localhost:" + dir_.Sub("src/data"),
                     "localhost:" + dir_.Sub("dst")});
  EXPECT_EQ(xfer.Wait(std::chrono::seconds(30)), 2);
  EXPECT_TRUE(Contains(xfer.stderr_text(), "--limit-rate: rate limit of 1.0 KiB/s is too low"));
}

TEST_F(LimitRateTest, XferRefusesAMalformedRate) {
  ChildProcess xfer({kXfer, "--limit-rate", "lots", "localhost:" + dir_.Sub("src/data"),
                     "localhost:" + dir_.Sub("dst")});
  EXPECT_EQ(xfer.Wait(std::chrono::seconds(30)), 2);
  EXPECT_TRUE(
      Contains(xfer.stderr_text(), "xfer: error: --limit-rate: 'lots' is not a rate like 100M"));
}

}  // namespace
}  // namespace xfer::testing
