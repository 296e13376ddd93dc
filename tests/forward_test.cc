// Chain fan-out end to end: the real xfer-send feeding a chain of real `xfer-recv --forward`
// processes on loopback (sender -> recv1 -> recv2 -> recv3), and what a failing link does to the
// rest of the chain.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <regex>

#include "process_table.h"
#include "tcp_proxy.h"
#include "temp_dir.h"
#include "tmpfs_mount.h"
#include "transfer_harness.h"
#include "tree_builder.h"
#include "tree_compare.h"

namespace xfer::testing {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kMidStream = 4 << 20;

uint16_t PortOf(const std::string& ticket) {
  return static_cast<uint16_t>(std::stoi(ticket.substr(6)));
}

std::string SecretOf(const std::string& ticket) {
  size_t start = ticket.find(':', 6) + 1;
  return ticket.substr(start, 43);
}

// `xfer-recv --forward 127.0.0.1 DIR` with the downstream's ticket on its stdin.
std::unique_ptr<ChildProcess> StartForwardingReceiver(const std::string& dst,
                                                      const std::string& downstream_ticket,
                                                      std::vector<std::string> args,
                                                      std::string* ticket) {
  args.insert(args.end(), {"--forward", "127.0.0.1"});
  return StartReceiver(dst, args, ticket, downstream_ticket);
}

std::string StreamDigestOf(const std::string& json) {
  std::smatch match;
  if (!std::regex_search(json, match, std::regex("\"stream_digest\":\"([0-9a-f]{32})\""))) {
    return "none in " + json;
  }
  return match[1];
}

class ForwardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const std::string& dir : {src_, dst_[0], dst_[1], dst_[2]}) {
      ASSERT_EQ(mkdir(dir.c_str(), 0755), 0) << dir;
    }
    ASSERT_EQ(mkdir((src_ + "/data").c_str(), 0755), 0);
    WriteFile(src_ + "/data/hello.txt", "hello, world\n");
    // Compressible, and many chunks: more than the pipeline and the forwarding queue hold.
    std::string text;
    for (int i = 0; text.size() < (12 << 20); ++i) text += "line " + std::to_string(i) + "\n";
    WriteFile(src_ + "/data/text.log", text);
  }

  // Incompressible and large, so that a fault after a few MiB lands mid-stream.
  void AddBigFile() { WriteRandomFile(src_ + "/data/big.bin", 64 << 20); }

  // Starts recv3, recv2 and recv1, each forwarding to the next; route(ticket3), when given, is
  // the ticket recv2 forwards with (a proxy's port in place of recv3's).
  void StartChain(const std::vector<std::string>& receiver_args,
                  const std::function<std::string(const std::string&)>& route = nullptr) {
    recv_[2] = StartReceiver(dst_[2], receiver_args, &ticket_[2]);
    std::string downstream = route ? route(ticket_[2]) : ticket_[2];
    std::vector<std::string> middle_args = receiver_args;
    middle_args.insert(middle_args.end(), middle_args_.begin(), middle_args_.end());
    recv_[1] = StartForwardingReceiver(dst_[1], downstream, middle_args, &ticket_[1]);
    recv_[0] = StartForwardingReceiver(dst_[0], ticket_[1], receiver_args, &ticket_[0]);
    for (const std::string& ticket : ticket_) ASSERT_TRUE(ticket.starts_with("xfer1:")) << ticket;
  }

  // Waits for every receiver and keeps their exit codes and result lines.
  void WaitForChain() {
    for (int i = 0; i < 3; ++i) {
      exit_[i] = recv_[i]->Wait();
      json_[i] = recv_[i]->ReadStdoutLine(1s);
    }
  }

  static std::string Peer(bool ok) {
    return std::string("\"peers\":[{\"host\":\"127.0.0.1\",\"ok\":") + (ok ? "true" : "false");
  }

  void ExpectCopied(int i, const std::string& top = "data") {
    EXPECT_EQ(CompareTrees(src_ + "/" + top, dst_[i] + "/" + top), std::vector<std::string>{})
        << "receiver " << i + 1;
  }

  // The middle receiver's copy fails; the chain around it must not. Checks that the first and
  // last receivers verified and committed (so the sender succeeded), that the middle one failed
  // saying `why` while its result line tells that the last one succeeded, and that the first one
  // names the middle one's failure under "peers".
  void ExpectOnlyTheMiddleFailed(int sender_exit, const std::string& sender_err,
                                 const std::string& why) {
    EXPECT_EQ(sender_exit, 0) << "the first receiver verified: " << sender_err;
    for (int i : {0, 2}) {
      ASSERT_EQ(exit_[i], 0) << "receiver " << i + 1 << ": " << recv_[i]->stderr_text();
      ExpectCopied(i);
      EXPECT_EQ(ListDir(dst_[i]), std::vector<std::string>{"data"}) << "staging left";
    }
    EXPECT_EQ(exit_[1], 1) << recv_[1]->stderr_text();
    EXPECT_NE(recv_[1]->stderr_text().find(why), std::string::npos) << recv_[1]->stderr_text();
    EXPECT_NE(json_[1].find(Peer(true) + "}],\"error\":\""), std::string::npos) << json_[1];
    EXPECT_NE(json_[1].find(why), std::string::npos) << json_[1];
    EXPECT_NE(json_[0].find(Peer(false) + ",\"error\":\"receiver: "), std::string::npos)
        << json_[0];
    EXPECT_NE(json_[0].find(why), std::string::npos) << "the first receiver was not told why";
  }

  TempDir tmp_;
  std::vector<std::string> middle_args_;  // added to the middle receiver's arguments
  std::string src_ = tmp_.Sub("src");
  std::string dst_[3] = {tmp_.Sub("dst1"), tmp_.Sub("dst2"), tmp_.Sub("dst3")};
  std::unique_ptr<ChildProcess> recv_[3];
  std::string ticket_[3];
  int exit_[3] = {-1, -1, -1};
  std::string json_[3];
};

struct ChainVariant {
  const char* name;
  std::vector<std::string> sender_args;
  std::vector<std::string> receiver_args;
};

void PrintTo(const ChainVariant& variant, std::ostream* out) { *out << variant.name; }

class ForwardChainTest : public ForwardTest, public ::testing::WithParamInterface<ChainVariant> {};

TEST_P(ForwardChainTest, EveryReceiverOfTheChainCommitsTheSameTree) {
  TestTree tree;
  BuildTestTree(tmp_.path(), "tree", &tree);
  StartChain(GetParam().receiver_args);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(CommandLineOf(recv_[i]->pid()).find(SecretOf(ticket_[i + 1])), std::string::npos)
        << "a downstream secret is on receiver " << i + 1 << "'s command line";
  }
  auto sender = StartSender(ticket_[0], {src_ + "/data", tree.root}, GetParam().sender_args);
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  WaitForChain();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(exit_[i], 0) << "receiver " << i + 1 << ": " << recv_[i]->stderr_text();
    ExpectCopied(i);
    EXPECT_EQ(CompareTrees(tree.root, dst_[i] + "/tree"), std::vector<std::string>{});
    EXPECT_EQ(ListDir(dst_[i]), (std::vector<std::string>{"data", "tree"})) << "no staging left";
  }
  std::string sender_json = sender->ReadStdoutLine(1s);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(StreamDigestOf(json_[i]), StreamDigestOf(sender_json)) << json_[i];
    EXPECT_TRUE(json_[i].starts_with(sender_json.substr(0, sender_json.find(",\"bytes\""))))
        << "entry and file counts differ: " << json_[i] << " vs " << sender_json;
  }
  EXPECT_NE(json_[0].find(Peer(true) + "}]"), std::string::npos) << json_[0];
  EXPECT_NE(json_[1].find(Peer(true) + "}]"), std::string::npos) << json_[1];
  EXPECT_EQ(json_[2].find("\"peers\""), std::string::npos) << json_[2];
}

INSTANTIATE_TEST_SUITE_P(
    Variants, ForwardChainTest,
    ::testing::Values(ChainVariant{"Default", {}, {}},
                      ChainVariant{"Compressed", {"--level", "1"}, {}},
                      ChainVariant{"CompressedInClear", {"--level", "1"}, {"--no-encrypt"}}),
    [](const ::testing::TestParamInfo<ChainVariant>& info) { return info.param.name; });

TEST_F(ForwardTest, CutToTheLastReceiverFailsOnlyThatReceiver) {
  AddBigFile();
  std::atomic<bool> cut{false};
  std::unique_ptr<TcpProxy> proxy;
  StartChain({}, [&](const std::string& ticket) {
    proxy = std::make_unique<TcpProxy>(PortOf(ticket), [&](uint64_t offset, uint8_t*, size_t) {
      if (offset >= kMidStream) cut = true;
      return offset < kMidStream;
    });
    return TicketWithPort(ticket, proxy->port());
  });
  auto sender = StartSender(ticket_[0], {src_ + "/data"});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  WaitForChain();
  proxy.reset();
  ASSERT_TRUE(cut) << "the proxy never saw enough bytes to cut";

  EXPECT_EQ(exit_[0], 0) << recv_[0]->stderr_text();
  EXPECT_EQ(exit_[1], 0) << recv_[1]->stderr_text();
  ExpectCopied(0);
  ExpectCopied(1);
  EXPECT_NE(json_[0].find(Peer(true) + "}]"), std::string::npos) << json_[0];
  EXPECT_NE(json_[1].find(Peer(false) + ",\"error\":\""), std::string::npos) << json_[1];
  EXPECT_TRUE(std::regex_search(recv_[1]->stderr_text(),
                                std::regex("xfer-recv: forwarding to 127\\.0\\.0\\.1:[0-9]+ "
                                           "stopped, this copy goes on: .+")))
      << recv_[1]->stderr_text();

  EXPECT_EQ(exit_[2], 1);
  EXPECT_NE(recv_[2]->stderr_text().find("xfer-recv: error: connection from sender lost"),
            std::string::npos)
      << recv_[2]->stderr_text();
  EXPECT_TRUE(ListDirIgnoringStaging(dst_[2]).empty()) << "the cut receiver committed something";
  EXPECT_NE(recv_[2]->stderr_text().find("kept on"), std::string::npos)
      << "the cut receiver kept nothing to resume: " << recv_[2]->stderr_text();
}

TEST_F(ForwardTest, CutFromTheSenderFailsEveryReceiverAndNoneCommits) {
  AddBigFile();
  StartChain({});
  std::atomic<bool> cut{false};
  int sender_exit = -1;
  {
    TcpProxy proxy(PortOf(ticket_[0]), [&](uint64_t offset, uint8_t*, size_t) {
      if (offset >= kMidStream) cut = true;
      return offset < kMidStream;
    });
    auto sender = StartSender(TicketWithPort(ticket_[0], proxy.port()), {src_ + "/data"});
    sender_exit = sender->Wait();
    WaitForChain();
  }
  ASSERT_TRUE(cut) << "the proxy never saw enough bytes to cut";
  EXPECT_EQ(sender_exit, 1);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(exit_[i], 1) << "receiver " << i + 1 << ": " << recv_[i]->stderr_text();
    EXPECT_TRUE(ListDirIgnoringStaging(dst_[i]).empty())
        << "receiver " << i + 1 << " committed something";
  }
  EXPECT_NE(recv_[0]->stderr_text().find("xfer-recv: error: connection from sender lost"),
            std::string::npos)
      << recv_[0]->stderr_text();
  for (int i = 1; i < 3; ++i) {
    EXPECT_NE(recv_[i]->stderr_text().find("xfer-recv: error: sender: upstream failed: "),
              std::string::npos)
        << recv_[i]->stderr_text();
  }
}

TEST_F(ForwardTest, ACutChainResumesWhatEveryReceiverHolds) {
  AddBigFile();
  StartChain({"--resume"});
  {
    TcpProxy proxy(PortOf(ticket_[0]),
                   [&](uint64_t offset, uint8_t*, size_t) { return offset < (48 << 20); });
    auto sender = StartSender(TicketWithPort(ticket_[0], proxy.port()), {src_ + "/data"},
                              {"--resume", "--no-compress"});
    EXPECT_EQ(sender->Wait(), 1);
    WaitForChain();
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(exit_[i], 1) << "receiver " << i + 1 << ": " << recv_[i]->stderr_text();
    EXPECT_EQ(ListDirIgnoringStaging(dst_[i]), std::vector<std::string>{});
    EXPECT_FALSE(ListDir(dst_[i]).empty()) << "receiver " << i + 1 << " kept nothing";
  }
  StartChain({"--resume"});
  auto sender = StartSender(ticket_[0], {src_ + "/data"}, {"--resume"});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  WaitForChain();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(exit_[i], 0) << "receiver " << i + 1 << ": " << recv_[i]->stderr_text();
    ExpectCopied(i);
    EXPECT_EQ(ListDir(dst_[i]), std::vector<std::string>{"data"}) << "staging or journal left";
  }
  std::smatch resumed;
  std::string sender_json = sender->ReadStdoutLine(1s);
  ASSERT_TRUE(std::regex_search(sender_json, resumed, std::regex("\"resumed_bytes\":([0-9]+)")));
  EXPECT_GT(std::stoull(resumed[1]), 0u) << sender_json;
}

TEST_F(ForwardTest, DownstreamRefusalIsReportedAndTheChainAboveCompletes) {
  ASSERT_EQ(mkdir((dst_[2] + "/data").c_str(), 0755), 0);
  WriteFile(dst_[2] + "/data/keep.txt", "precious");
  StartChain({});
  auto sender = StartSender(ticket_[0], {src_ + "/data"});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  WaitForChain();

  EXPECT_EQ(exit_[0], 0) << recv_[0]->stderr_text();
  EXPECT_EQ(exit_[1], 0) << recv_[1]->stderr_text();
  ExpectCopied(0);
  ExpectCopied(1);
  EXPECT_NE(json_[0].find(Peer(true) + "}]"), std::string::npos) << json_[0];
  EXPECT_NE(json_[1].find(Peer(false) + ",\"error\":\"receiver: destination " + dst_[2] +
                          "/data already exists\"}]"),
            std::string::npos)
      << json_[1];
  EXPECT_NE(recv_[1]->stderr_text().find(
                "xfer-recv: forwarding to 127.0.0.1:" + std::to_string(PortOf(ticket_[2])) +
                " stopped, this copy goes on: receiver: destination"),
            std::string::npos)
      << recv_[1]->stderr_text();
  EXPECT_EQ(exit_[2], 1);
  EXPECT_NE(recv_[2]->stderr_text().find("already exists"), std::string::npos);
  EXPECT_EQ(ListDir(dst_[2]), std::vector<std::string>{"data"});
  EXPECT_EQ(ReadFile(dst_[2] + "/data/keep.txt"), "precious");
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(recv_[i]->stderr_text().find(SecretOf(ticket_[i + 1])), std::string::npos)
        << "a secret was logged";
  }
}

TEST_F(ForwardTest, RefusalAtTheFirstReceiverStillFeedsTheRestOfTheChain) {
  ASSERT_EQ(mkdir((dst_[0] + "/data").c_str(), 0755), 0);
  StartChain({});
  auto sender = StartSender(ticket_[0], {src_ + "/data"});
  EXPECT_EQ(sender->Wait(), 1);
  WaitForChain();
  EXPECT_EQ(exit_[0], 1) << recv_[0]->stderr_text();
  EXPECT_EQ(ListDir(dst_[0]), std::vector<std::string>{"data"});
  EXPECT_TRUE(ListDir(dst_[0] + "/data").empty()) << "the refusing receiver wrote into data";
  EXPECT_TRUE(std::regex_search(recv_[0]->stderr_text(),
                                std::regex("xfer-recv: error: destination .*/dst1/data already "
                                           "exists")))
      << recv_[0]->stderr_text();
  for (int i = 1; i < 3; ++i) {
    ASSERT_EQ(exit_[i], 0) << "receiver " << i + 1 << ": " << recv_[i]->stderr_text();
    ExpectCopied(i);
  }
}

// The middle receiver's disk is too small for the data: it refuses, and passes the stream on.
TEST_F(ForwardTest, MiddleReceiverTooSmallForTheDataLetsTheOthersVerify) {
  std::string error;
  auto disk = TmpfsMount::Mount(dst_[1], "size=5m,mode=0755", &error);
  if (!disk) GTEST_SKIP() << error;
  StartChain({});
  auto sender = StartSender(ticket_[0], {src_ + "/data"});
  int sender_exit = sender->Wait();
  WaitForChain();
  ExpectOnlyTheMiddleFailed(sender_exit, sender->stderr_text(), "not enough space in " + dst_[1]);
  EXPECT_TRUE(ListDir(dst_[1]).empty());
}

// The middle receiver's disk fills up while it writes (it has room for the bytes, not for the
// many files): it fails with ENOSPC, and the stream goes on to the last one.
TEST_F(ForwardTest, MiddleReceiverWhoseDiskFillsLetsTheOthersVerify) {
  std::string error;
  auto disk = TmpfsMount::Mount(dst_[1], "size=64m,nr_inodes=32,mode=0755", &error);
  if (!disk) GTEST_SKIP() << error;
  ASSERT_EQ(mkdir((src_ + "/data/many").c_str(), 0755), 0);
  for (int i = 0; i < 100; ++i) WriteFile(src_ + "/data/many/" + std::to_string(i), "small");
  StartChain({});
  auto sender = StartSender(ticket_[0], {src_ + "/data"});
  int sender_exit = sender->Wait();
  WaitForChain();
  ExpectOnlyTheMiddleFailed(sender_exit, sender->stderr_text(), "No space left on device");
  EXPECT_TRUE(ListDirIgnoringStaging(dst_[1]).empty()) << "the failed receiver committed something";
}

TEST_F(ForwardTest, MiddleReceiverWhoseCommandFailsLetsTheOthersVerify) {
  middle_args_ = {"--exec", "head -c 1000 >/dev/null; exit 3", "--shell"};
  StartChain({});
  auto sender = StartSender(ticket_[0], {src_ + "/data"});
  int sender_exit = sender->Wait();
  WaitForChain();
  ExpectOnlyTheMiddleFailed(sender_exit, sender->stderr_text(), "exited with status 3");
}

}  // namespace
}  // namespace xfer::testing
