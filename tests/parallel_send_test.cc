// Fan-out: one xfer-send streaming the same frames to several xfer-recvs at once, and a receiver
// that fails among them (cut, stalled, refusing, unreachable) while the others complete.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <regex>
#include <thread>

#include "child_process.h"
#include "socket.h"
#include "socket_probe.h"
#include "tcp_proxy.h"
#include "temp_dir.h"
#include "transfer_harness.h"
#include "tree_builder.h"
#include "tree_compare.h"
#include "xfer/receiver.h"
#include "xfer/sender.h"

namespace xfer::testing {
namespace {

constexpr int kReceivers = 3;
constexpr uint64_t kMidStream = 4 << 20;

// The value of "key":"..." in a JSON line, or "" when absent.
std::string JsonField(const std::string& json, const std::string& key) {
  std::smatch match;
  if (!std::regex_search(json, match, std::regex("\"" + key + "\":\"([^\"]*)\""))) return "";
  return match[1];
}

// The "ok" values of the "peers" array, in order.
std::vector<bool> PeersOk(const std::string& json) {
  std::vector<bool> oks;
  size_t peers = json.find("\"peers\":[");
  if (peers == std::string::npos) return oks;
  std::regex ok_field("\\{\"host\":\"127\\.0\\.0\\.1\",\"ok\":(true|false)");
  std::string rest = json.substr(peers);
  for (auto it = std::sregex_iterator(rest.begin(), rest.end(), ok_field);
       it != std::sregex_iterator(); ++it) {
    oks.push_back((*it)[1] == "true");
  }
  return oks;
}

uint16_t TicketPort(const std::string& ticket) {
  return static_cast<uint16_t>(std::stoi(ticket.substr(6)));
}

std::string TicketSecret(const std::string& ticket) {
  std::string rest = ticket.substr(ticket.find(':', 6) + 1);
  return rest.substr(0, rest.find(':'));
}

class ParallelSendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mkdir(src_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((src_ + "/data").c_str(), 0755), 0);
    WriteFile(src_ + "/data/hello.txt", "hello, world\n");
    for (int i = 0; i < kReceivers; ++i) {
      dst_.push_back(tmp_.Sub("dst" + std::to_string(i)));
      ASSERT_EQ(mkdir(dst_.back().c_str(), 0755), 0);
    }
  }

  // Starts one xfer-recv per destination directory, each with its own ticket.
  void StartReceivers(const std::vector<std::string>& extra_args = {}) {
    for (int i = 0; i < kReceivers; ++i) {
      tickets_.emplace_back();
      receivers_.push_back(StartReceiver(dst_[i], extra_args, &tickets_.back()));
    }
  }

  void ExpectCopied(int receiver, const std::string& source) {
    EXPECT_EQ(CompareTrees(source, dst_[receiver] + "/data"), std::vector<std::string>{})
        << "receiver " << receiver;
  }

  void ExpectNoSecretIn(const std::string& text) {
    for (const std::string& ticket : tickets_) {
      EXPECT_EQ(text.find(TicketSecret(ticket)), std::string::npos) << "a secret was logged";
    }
  }

  TempDir tmp_;
  std::string src_ = tmp_.Sub("src");
  std::vector<std::string> dst_;
  std::vector<std::string> tickets_;
  std::vector<std::unique_ptr<ChildProcess>> receivers_;
};

TEST_F(ParallelSendTest, CopiesEveryKindOfEntryToThreeReceiversAtOnce) {
  TestTree tree;
  BuildTestTree(src_, "tree", &tree);
  StartReceivers();
  auto sender = StartSenderToAll(tickets_, {tree.root});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  std::string sent = sender->ReadStdoutLine();
  EXPECT_EQ(PeersOk(sent), std::vector<bool>(kReceivers, true)) << sent;
  std::string digest = JsonField(sent, "stream_digest");
  ASSERT_EQ(digest.size(), 32u) << sent;
  for (int i = 0; i < kReceivers; ++i) {
    ASSERT_EQ(receivers_[i]->Wait(), 0) << receivers_[i]->stderr_text();
    EXPECT_EQ(CompareTrees(tree.root, dst_[i] + "/tree"), std::vector<std::string>{})
        << "receiver " << i;
    std::string received = receivers_[i]->ReadStdoutLine();
    EXPECT_EQ(JsonField(received, "stream_digest"), digest) << received;
    EXPECT_EQ(ListDir(dst_[i]), std::vector<std::string>{"tree"}) << "no staging directory left";
  }
  ExpectNoSecretIn(sender->stderr_text() + sender->stdout_text());
}

TEST_F(ParallelSendTest, CompressesOnceForPlainAndEncryptedReceiversFromATicketFile) {
  WriteFile(src_ + "/data/log.txt", std::string(4 << 20, 'x'));
  for (int i = 0; i < kReceivers; ++i) {
    tickets_.emplace_back();
    std::vector<std::string> args;
    if (i < 2) args.push_back("--no-encrypt");  // the last one keeps TLS
    receivers_.push_back(StartReceiver(dst_[i], args, &tickets_.back()));
  }
  std::string ticket_file = tmp_.Sub("tickets");
  WriteFile(ticket_file, tickets_[0] + "\n" + tickets_[1] + "\n" + tickets_[2] + "\n");
  // Tickets on stdin that hold no valid secret: success proves the file was read instead.
  std::vector<std::string> decoys;
  for (const std::string& ticket : tickets_) {
    std::string decoy = ticket;
    size_t at = ticket.find(':', 6) + 5;
    decoy[at] = decoy[at] == 'A' ? 'B' : 'A';
    decoys.push_back(decoy);
  }
  auto sender =
      StartSenderToAll(decoys, {src_ + "/data"}, {"--level", "1", "--ticket-file", ticket_file});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  EXPECT_EQ(PeersOk(sender->ReadStdoutLine()), std::vector<bool>(kReceivers, true));
  for (int i = 0; i < kReceivers; ++i) {
    ASSERT_EQ(receivers_[i]->Wait(), 0) << receivers_[i]->stderr_text();
    ExpectCopied(i, src_ + "/data");
    std::smatch ratio;
    std::string received = receivers_[i]->ReadStdoutLine();
    ASSERT_TRUE(std::regex_search(received, ratio, std::regex("\"ratio\":([0-9.]+)"))) << received;
    EXPECT_GT(std::stod(ratio[1]), 10.0) << "receiver " << i << " got uncompressed data";
  }
}

TEST_F(ParallelSendTest, CutReceiverIsDroppedAndTheOthersComplete) {
  WriteRandomFile(src_ + "/data/big.bin", 32 << 20);
  StartReceivers();
  TcpProxy proxy(TicketPort(tickets_[1]),
                 [](uint64_t offset, uint8_t*, size_t) { return offset < kMidStream; });
  std::vector<std::string> sent_tickets = tickets_;
  sent_tickets[1] = TicketWithPort(tickets_[1], proxy.port());
  auto sender = StartSenderToAll(sent_tickets, {src_ + "/data"});
  EXPECT_EQ(sender->Wait(), 1);
  EXPECT_EQ(receivers_[1]->Wait(), 1);
  EXPECT_NE(receivers_[1]->stderr_text().find("connection from sender lost"), std::string::npos)
      << receivers_[1]->stderr_text();
  EXPECT_EQ(ListDirIgnoringStaging(dst_[1]), std::vector<std::string>{}) << "nothing committed";
  for (int i : {0, 2}) {
    ASSERT_EQ(receivers_[i]->Wait(), 0) << receivers_[i]->stderr_text();
    ExpectCopied(i, src_ + "/data");
  }

  const std::string& error = sender->stderr_text();
  EXPECT_NE(error.find("xfer-send: error: 1 of 3 receivers failed: "), std::string::npos) << error;
  EXPECT_NE(error.find("127.0.0.1:" + std::to_string(proxy.port())), std::string::npos) << error;
  for (int i : {0, 2}) {
    EXPECT_EQ(error.find("127.0.0.1:" + std::to_string(TicketPort(tickets_[i])) + ":"),
              std::string::npos)
        << "receiver " << i << " succeeded: " << error;
  }
  std::string sent = sender->ReadStdoutLine();
  EXPECT_EQ(PeersOk(sent), (std::vector<bool>{true, false, true})) << sent;
  ExpectNoSecretIn(error + sender->stdout_text());
}

TEST_F(ParallelSendTest, StoppedReceiverIsDroppedAfterTheStallTimeoutAndTheOthersVerify) {
  // Big enough that the socket buffers towards the stopped receiver fill long before the end.
  WriteRandomFile(src_ + "/data/big.bin", 64 << 20);
  StartReceivers({"--progress"});
  auto sender = StartSenderToAll(tickets_, {src_ + "/data"}, {"--stall-timeout", "2"});
  // Its first progress line comes once it accepted: the transfer is under way.
  ASSERT_TRUE(receivers_[1]->WaitForStderr("xfer-recv: 0.0%")) << receivers_[1]->stderr_text();
  receivers_[1]->Kill(SIGSTOP);
  // Well within the receivers' 60 s idle timeout, which would end it otherwise.
  int sender_exit = sender->Wait(std::chrono::seconds(40));
  receivers_[1]->Kill(SIGCONT);
  EXPECT_EQ(sender_exit, 1) << sender->stderr_text();
  for (int i : {0, 2}) {
    EXPECT_EQ(receivers_[i]->Wait(), 0) << receivers_[i]->stderr_text();
    ExpectCopied(i, src_ + "/data");
  }
  EXPECT_EQ(receivers_[1]->Wait(), 1);
  EXPECT_EQ(ListDirIgnoringStaging(dst_[1]), std::vector<std::string>{}) << "nothing committed";
  const std::string& error = sender->stderr_text();
  std::string stalled = "sending to 127.0.0.1:" + std::to_string(TicketPort(tickets_[1])) +
                        ": stalled: no progress for 2 s";
  EXPECT_NE(error.find("dropped 127.0.0.1:" + std::to_string(TicketPort(tickets_[1])) +
                       ", going on with 2 of 3 receivers: " + stalled),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("xfer-send: error: 1 of 3 receivers failed: " + stalled), std::string::npos)
      << error;
  std::string sent = sender->ReadStdoutLine();
  EXPECT_EQ(PeersOk(sent), (std::vector<bool>{true, false, true})) << sent;
  EXPECT_NE(sent.find("\"error\":\"" + stalled + "\""), std::string::npos) << sent;
}

TEST_F(ParallelSendTest, XferPassesTheStallTimeoutFromItsConfigFile) {
  WriteFile(tmp_.Sub("xfer.conf"), "fanout = parallel\nstall-timeout = 7\n");
  ChildProcess xfer({XFER_ORCHESTRATOR_BIN_PATH, "--verbose", "--config", tmp_.Sub("xfer.conf"),
                     "localhost:" + src_ + "/data", "localhost:" + dst_[0],
                     "localhost:" + dst_[1]});
  ASSERT_EQ(xfer.Wait(std::chrono::seconds(60)), 0) << xfer.stderr_text();
  for (int i : {0, 1}) ExpectCopied(i, src_ + "/data");
  EXPECT_NE(xfer.stderr_text().find("xfer-send: a receiver that takes no data for 7 s is dropped"),
            std::string::npos)
      << xfer.stderr_text();
}

TEST_F(ParallelSendTest, ReceiverWithAnExistingTargetRefusesAndTheOthersComplete) {
  ASSERT_EQ(mkdir((dst_[2] + "/data").c_str(), 0755), 0);
  WriteFile(dst_[2] + "/data/keep.txt", "precious");
  StartReceivers();
  auto sender = StartSenderToAll(tickets_, {src_ + "/data"});
  EXPECT_EQ(sender->Wait(), 1);
  EXPECT_EQ(receivers_[2]->Wait(), 1);
  EXPECT_EQ(ReadFile(dst_[2] + "/data/keep.txt"), "precious");
  EXPECT_EQ(ListDir(dst_[2] + "/data"), std::vector<std::string>{"keep.txt"});
  for (int i : {0, 1}) {
    ASSERT_EQ(receivers_[i]->Wait(), 0) << receivers_[i]->stderr_text();
    ExpectCopied(i, src_ + "/data");
  }
  std::string refused =
      "1 of 3 receivers failed: receiver 127.0.0.1:" + std::to_string(TicketPort(tickets_[2])) +
      ": destination";
  EXPECT_NE(sender->stderr_text().find(refused), std::string::npos) << sender->stderr_text();
  EXPECT_EQ(PeersOk(sender->ReadStdoutLine()), (std::vector<bool>{true, true, false}));
}

// The library, embedded as examples/embed_example.cc does, with receivers in this process.
class ParallelSendLibraryTest : public ParallelSendTest {
 protected:
  ~ParallelSendLibraryTest() override { JoinReceivers(); }

  // Listens on 127.0.0.1 for dst_[index] and receives in a thread.
  void StartInProcessReceiver(int index) {
    ReceiveOptions options;
    options.dest_dir = dst_[index];
    options.listen_address = "127.0.0.1";
    options.timeout = std::chrono::seconds(60);
    std::unique_ptr<Receiver> receiver;
    ASSERT_TRUE(Receiver::Listen(options, &receiver).ok());
    destinations_.push_back({"127.0.0.1", receiver->ticket()});
    Receiver* running = receiver.get();
    in_process_.push_back(std::move(receiver));
    receiving_.emplace_back(
        [this, index, running] { results_[index] = running->Run(&reports_[index]); });
  }

  void JoinReceivers() {
    for (std::thread& thread : receiving_) {
      if (thread.joinable()) thread.join();
    }
  }

  std::vector<Destination> destinations_;
  std::vector<std::unique_ptr<Receiver>> in_process_;
  std::vector<std::thread> receiving_;
  Status results_[kReceivers];
  Report reports_[kReceivers];
};

TEST_F(ParallelSendLibraryTest, SendsToTwoDestinations) {
  StartInProcessReceiver(0);
  StartInProcessReceiver(1);
  SendOptions options;
  options.destinations = destinations_;
  options.paths = {src_ + "/data"};
  Report report;
  Status status = Send(options, &report);
  JoinReceivers();
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(report.peers.size(), 2u);
  for (int i : {0, 1}) {
    EXPECT_TRUE(results_[i].ok()) << results_[i].message();
    EXPECT_TRUE(report.peers[i].ok) << report.peers[i].error;
    EXPECT_EQ(reports_[i].stream_digest, report.stream_digest);
    ExpectCopied(i, src_ + "/data");
  }
}

TEST_F(ParallelSendLibraryTest, UnreachableDestinationFailsAloneAndIsNamed) {
  uint16_t closed_port = 0;
  Socket refusing = RefusingPort(&closed_port);
  StartInProcessReceiver(0);
  Destination unreachable = destinations_[0];
  unreachable.ticket.port = closed_port;
  SendOptions options;
  options.destinations = {destinations_[0], unreachable};
  options.paths = {src_ + "/data"};
  // A refused connection is tried again until the timeout: a short one ends the retries soon.
  options.timeout = std::chrono::seconds(5);
  Report report;
  Status status = Send(options, &report);
  JoinReceivers();
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(status.message().starts_with("1 of 2 receivers failed: connecting to 127.0.0.1:" +
                                           std::to_string(closed_port)))
      << status.message();
  ASSERT_TRUE(results_[0].ok()) << results_[0].message();
  ExpectCopied(0, src_ + "/data");
  ASSERT_EQ(report.peers.size(), 2u);
  EXPECT_TRUE(report.peers[0].ok);
  EXPECT_FALSE(report.peers[1].ok);
  EXPECT_NE(report.peers[1].error.find("Connection refused"), std::string::npos)
      << report.peers[1].error;
  EXPECT_EQ(report.stream_digest, reports_[0].stream_digest) << "the survivor's report is filled";
}

}  // namespace
}  // namespace xfer::testing
