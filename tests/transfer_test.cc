// End to end: the real xfer-recv and xfer-send on loopback, and what goes wrong between them.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <regex>

#include "tcp_proxy.h"
#include "temp_dir.h"
#include "tmpfs_mount.h"
#include "transfer_harness.h"
#include "tree_builder.h"
#include "tree_compare.h"

namespace xfer::testing {
namespace {

class TransferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mkdir(src_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir(dst_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((src_ + "/data").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((src_ + "/data/nested").c_str(), 0700), 0);
    WriteFile(src_ + "/data/hello.txt", "hello, world\n");
    WriteFile(src_ + "/data/nested/log.txt", std::string(100000, 'x'));
    ASSERT_EQ(symlink("../hello.txt", (src_ + "/data/nested/link").c_str()), 0);
  }

  // A source big enough that a fault injected after a few MiB lands mid-stream, whatever the
  // socket buffers hold.
  void AddBigFile() { WriteRandomFile(src_ + "/data/big.bin", 64 << 20); }

  // Nothing new in sight: what a failed transfer keeps to resume from stays in its hidden
  // staging directory.
  void ExpectDestinationUntouched(const std::vector<std::string>& before) {
    EXPECT_EQ(ListDirIgnoringStaging(dst_), before) << "the destination changed";
  }

  TempDir tmp_;
  std::string src_ = tmp_.Sub("src");
  std::string dst_ = tmp_.Sub("dst");
};

TEST_F(TransferTest, CopiesADirectoryAndBothSidesReportJson) {
  std::string ticket;
  auto receiver = StartReceiver(dst_, {}, &ticket);
  auto sender = StartSender(ticket, {src_ + "/data"});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  EXPECT_EQ(ReadFile(dst_ + "/data/hello.txt"), "hello, world\n");
  EXPECT_EQ(ReadFile(dst_ + "/data/nested/log.txt"), std::string(100000, 'x'));
  char target[64] = {};
  ASSERT_GT(readlink((dst_ + "/data/nested/link").c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "../hello.txt");
  EXPECT_EQ(ListDir(dst_), std::vector<std::string>{"data"}) << "no staging directory is left";
  std::string json = receiver->ReadStdoutLine();
  EXPECT_TRUE(json.starts_with("{\"entries\":5,\"files\":2,\"bytes\":100013,")) << json;
  EXPECT_NE(json.find("\"stream_digest\":\""), std::string::npos) << json;
  EXPECT_TRUE(sender->ReadStdoutLine().starts_with("{\"entries\":5,"));
}

TEST_F(TransferTest, PreservesEveryKindOfEntryEndToEnd) {
  TestTree tree;
  BuildTestTree(tmp_.path(), "tree", &tree);
  for (const std::string& note : tree.notes) std::printf("note: %s\n", note.c_str());
  for (const std::vector<std::string>& receiver_args :
       {std::vector<std::string>{}, std::vector<std::string>{"--no-encrypt"}}) {
    std::string dst = tmp_.Sub(receiver_args.empty() ? "tls" : "plain");
    ASSERT_EQ(mkdir(dst.c_str(), 0755), 0);
    std::string ticket;
    auto receiver = StartReceiver(dst, receiver_args, &ticket);
    auto sender = StartSender(ticket, {tree.root});
    ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
    ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
    EXPECT_EQ(CompareTrees(tree.root, dst + "/tree"), std::vector<std::string>{});
  }
}

TEST_F(TransferTest, EmbeddingExampleCopiesATree) {
  ChildProcess example({XFER_EMBED_EXAMPLE_PATH, src_ + "/data", dst_});
  ASSERT_EQ(example.Wait(), 0) << example.stderr_text();
  EXPECT_EQ(CompareTrees(src_ + "/data", dst_ + "/data"), std::vector<std::string>{});
  EXPECT_TRUE(example.stdout_text().starts_with("{\"entries\":5,")) << example.stdout_text();
}

TEST_F(TransferTest, TicketIsTheOnlyLineBeforeTheTransfer) {
  std::string ticket;
  auto receiver = StartReceiver(dst_, {}, &ticket);
  EXPECT_TRUE(std::regex_match(ticket, std::regex("xfer1:[0-9]+:[A-Za-z0-9_-]{43}"))) << ticket;
  auto sender = StartSender(ticket, {src_ + "/data"});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0);
  EXPECT_TRUE(receiver->stdout_text().starts_with(ticket + "\n{"));
}

TEST_F(TransferTest, PlainModeCopiesAndSaysSoInTheTicket) {
  AddBigFile();
  std::string ticket;
  auto receiver = StartReceiver(dst_, {"--no-encrypt"}, &ticket);
  EXPECT_TRUE(ticket.ends_with(":plain")) << ticket;
  auto sender = StartSender(ticket, {src_ + "/data"});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  EXPECT_EQ(ReadFile(dst_ + "/data/big.bin"), ReadFile(src_ + "/data/big.bin"));
}

TEST_F(TransferTest, SendsSeveralPathsUncompressedUnderTheirBasenames) {
  WriteFile(tmp_.Sub("single.txt"), "one file");
  std::string ticket;
  auto receiver = StartReceiver(dst_, {}, &ticket);
  auto sender = StartSender(ticket, {src_ + "/data", tmp_.Sub("single.txt")}, {"--no-compress"});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  EXPECT_EQ(ReadFile(dst_ + "/single.txt"), "one file");
  EXPECT_EQ(ReadFile(dst_ + "/data/hello.txt"), "hello, world\n");
}

TEST_F(TransferTest, WrongSecretIsRejectedAndTheRightSenderStillSucceeds) {
  std::string ticket;
  auto receiver = StartReceiver(dst_, {}, &ticket);
  std::string wrong = ticket;
  wrong[wrong.size() - 5] = wrong[wrong.size() - 5] == 'A' ? 'B' : 'A';
  auto impostor = StartSender(wrong, {src_ + "/data"});
  EXPECT_EQ(impostor->Wait(), 1);
  EXPECT_NE(impostor->stderr_text().find("xfer-send: error: "), std::string::npos)
      << impostor->stderr_text();
  auto sender = StartSender(ticket, {src_ + "/data"});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  EXPECT_NE(receiver->stderr_text().find("rejected connection from 127.0.0.1"), std::string::npos)
      << receiver->stderr_text();
  std::string secret = ticket.substr(ticket.rfind(':') + 1);
  std::string wrong_secret = wrong.substr(wrong.rfind(':') + 1);
  for (const std::string* text :
       {&receiver->stderr_text(), &impostor->stderr_text(), &sender->stderr_text()}) {
    EXPECT_EQ(text->find(secret), std::string::npos) << "a secret was logged";
    EXPECT_EQ(text->find(wrong_secret), std::string::npos) << "a secret was logged";
  }
}

TEST_F(TransferTest, GarbageConnectionBeforeTheSenderIsDropped) {
  std::string ticket;
  auto receiver = StartReceiver(dst_, {}, &ticket);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(ticket.substr(6))));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string garbage = "GET / HTTP/1.0\r\n\r\n" + std::string(600, '\x16');
  ASSERT_EQ(write(fd, garbage.data(), garbage.size()), static_cast<ssize_t>(garbage.size()));
  auto sender = StartSender(ticket, {src_ + "/data"});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  close(fd);
  EXPECT_NE(receiver->stderr_text().find("rejected connection"), std::string::npos);
  EXPECT_EQ(ReadFile(dst_ + "/data/hello.txt"), "hello, world\n");
}

TEST_F(TransferTest, RefusesAnExistingTargetBeforeDataFlows) {
  ASSERT_EQ(mkdir((dst_ + "/data").c_str(), 0755), 0);
  WriteFile(dst_ + "/data/keep.txt", "precious");
  std::vector<std::string> before = ListDir(dst_);
  std::string ticket;
  auto receiver = StartReceiver(dst_, {}, &ticket);
  auto sender = StartSender(ticket, {src_ + "/data"});
  EXPECT_EQ(sender->Wait(), 1);
  EXPECT_EQ(receiver->Wait(), 1);
  EXPECT_NE(receiver->stderr_text().find("already exists"), std::string::npos)
      << receiver->stderr_text();
  EXPECT_NE(sender->stderr_text().find("receiver: destination"), std::string::npos)
      << sender->stderr_text();
  ExpectDestinationUntouched(before);
  EXPECT_EQ(ReadFile(dst_ + "/data/keep.txt"), "precious");
}

TEST_F(TransferTest, OverwriteReplacesAnExistingTarget) {
  ASSERT_EQ(mkdir((dst_ + "/data").c_str(), 0755), 0);
  WriteFile(dst_ + "/data/stale.txt", "old");
  std::string ticket;
  auto receiver = StartReceiver(dst_, {"--overwrite"}, &ticket);
  auto sender = StartSender(ticket, {src_ + "/data"});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  EXPECT_EQ(ReadFile(dst_ + "/data/hello.txt"), "hello, world\n");
  EXPECT_NE(access((dst_ + "/data/stale.txt").c_str(), F_OK), 0) << "old content must be gone";
  EXPECT_EQ(ListDir(dst_), std::vector<std::string>{"data"});
}

TEST_F(TransferTest, RefusesWhenTheDestinationLacksSpace) {
  std::string error;
  auto disk = testing::TmpfsMount::Mount(dst_, "size=1m", &error);
  if (!disk) GTEST_SKIP() << error;
  WriteRandomFile(src_ + "/data/big.bin", 4 << 20);
  std::string ticket;
  auto receiver = StartReceiver(dst_, {}, &ticket);
  auto sender = StartSender(ticket, {src_ + "/data"});
  EXPECT_EQ(sender->Wait(), 1);
  EXPECT_EQ(receiver->Wait(), 1);
  EXPECT_TRUE(std::regex_search(receiver->stderr_text(),
                                std::regex("not enough space in .*: need 4\\.[0-9] MiB, .* free")))
      << receiver->stderr_text();
  EXPECT_NE(sender->stderr_text().find("not enough space"), std::string::npos);
  EXPECT_TRUE(ListDir(dst_).empty());
}

TEST_F(TransferTest, MissingSourceFailsBothSidesPromptly) {
  std::string ticket;
  auto receiver = StartReceiver(dst_, {}, &ticket);
  auto sender = StartSender(ticket, {src_ + "/no-such-dir"});
  EXPECT_EQ(sender->Wait(), 1);
  EXPECT_EQ(receiver->Wait(), 1);
  EXPECT_NE(sender->stderr_text().find("no-such-dir: No such file or directory"), std::string::npos)
      << sender->stderr_text();
  EXPECT_NE(receiver->stderr_text().find("sender: "), std::string::npos) << receiver->stderr_text();
  EXPECT_TRUE(ListDir(dst_).empty());
}

// Runs a transfer through a proxy that calls fault(offset) for each client-to-server piece.
struct FaultRun {
  std::unique_ptr<ChildProcess> receiver;
  std::unique_ptr<ChildProcess> sender;
  int receiver_exit = -1;
  int sender_exit = -1;
};

FaultRun RunThroughProxy(const std::string& dst, const std::string& src,
                         const std::vector<std::string>& receiver_args,
                         const std::function<bool(FaultRun&, uint64_t, uint8_t*, size_t)>& fault) {
  FaultRun run;
  std::string ticket;
  run.receiver = StartReceiver(dst, receiver_args, &ticket);
  std::atomic<bool> ready{false};
  {
    TcpProxy proxy(static_cast<uint16_t>(std::stoi(ticket.substr(6))),
                   [&](uint64_t offset, uint8_t* data, size_t len) {
                     return !ready.load() || fault(run, offset, data, len);
                   });
    run.sender = StartSender(TicketWithPort(ticket, proxy.port()), {src});
    ready = true;
    run.sender_exit = run.sender->Wait();
    run.receiver_exit = run.receiver->Wait();
  }
  return run;
}

constexpr uint64_t kMidStream = 4 << 20;

TEST_F(TransferTest, SenderKilledMidStreamLeavesTheDestinationUnchanged) {
  AddBigFile();
  std::vector<std::string> before = ListDir(dst_);
  FaultRun run =
      RunThroughProxy(dst_, src_ + "/data", {}, [](FaultRun& r, uint64_t offset, uint8_t*, size_t) {
        if (offset >= kMidStream) r.sender->Kill(SIGKILL);
        return true;
      });
  EXPECT_EQ(run.sender_exit, 128 + SIGKILL);
  EXPECT_EQ(run.receiver_exit, 1);
  EXPECT_NE(run.receiver->stderr_text().find("xfer-recv: error: connection from sender lost"),
            std::string::npos)
      << run.receiver->stderr_text();
  ExpectDestinationUntouched(before);
}

TEST_F(TransferTest, ReceiverKilledMidStreamFailsTheSender) {
  AddBigFile();
  std::vector<std::string> before = ListDir(dst_);
  FaultRun run =
      RunThroughProxy(dst_, src_ + "/data", {}, [](FaultRun& r, uint64_t offset, uint8_t*, size_t) {
        if (offset >= kMidStream) r.receiver->Kill(SIGKILL);
        return true;
      });
  EXPECT_EQ(run.receiver_exit, 128 + SIGKILL);
  EXPECT_EQ(run.sender_exit, 1);
  EXPECT_NE(run.sender->stderr_text().find("xfer-send: error: "), std::string::npos);
  EXPECT_NE(run.sender->stderr_text().find("receiver"), std::string::npos)
      << run.sender->stderr_text();
  // Killed with -9, the receiver cannot clean its hidden staging directory; nothing else is new.
  EXPECT_EQ(ListDirIgnoringStaging(dst_), before);
}

TEST_F(TransferTest, CutConnectionFailsBothSides) {
  AddBigFile();
  std::vector<std::string> before = ListDir(dst_);
  FaultRun run = RunThroughProxy(
      dst_, src_ + "/data", {},
      [](FaultRun&, uint64_t offset, uint8_t*, size_t) { return offset < kMidStream; });
  EXPECT_EQ(run.sender_exit, 1);
  EXPECT_EQ(run.receiver_exit, 1);
  EXPECT_NE(run.receiver->stderr_text().find("connection from sender lost"), std::string::npos)
      << run.receiver->stderr_text();
  ExpectDestinationUntouched(before);
}

bool FlipOneByteAt(uint64_t target, uint64_t offset, uint8_t* data, size_t len) {
  if (offset <= target && target < offset + len) data[target - offset] ^= 0x20;
  return true;
}

TEST_F(TransferTest, FlippedByteInPlainModeIsCaughtByTheRecordMac) {
  AddBigFile();
  std::vector<std::string> before = ListDir(dst_);
  FaultRun run = RunThroughProxy(dst_, src_ + "/data", {"--no-encrypt"},
                                 [](FaultRun&, uint64_t offset, uint8_t* data, size_t len) {
                                   return FlipOneByteAt(kMidStream + 1000, offset, data, len);
                                 });
  EXPECT_EQ(run.receiver_exit, 1);
  EXPECT_EQ(run.sender_exit, 1);
  EXPECT_NE(run.receiver->stderr_text().find("failed authentication"), std::string::npos)
      << run.receiver->stderr_text();
  ExpectDestinationUntouched(before);
}

TEST_F(TransferTest, FlippedByteUnderTlsIsCaughtByRecordAuthentication) {
  AddBigFile();
  std::vector<std::string> before = ListDir(dst_);
  FaultRun run = RunThroughProxy(dst_, src_ + "/data", {},
                                 [](FaultRun&, uint64_t offset, uint8_t* data, size_t len) {
                                   return FlipOneByteAt(kMidStream + 1000, offset, data, len);
                                 });
  EXPECT_EQ(run.receiver_exit, 1);
  EXPECT_EQ(run.sender_exit, 1);
  EXPECT_NE(run.receiver->stderr_text().find("xfer-recv: error: receiving from 127.0.0.1:"),
            std::string::npos)
      << run.receiver->stderr_text();
  EXPECT_NE(run.receiver->stderr_text().find(
                ": a TLS record failed authentication (decryption failed or bad record mac): "
                "the data was corrupted or altered in transit"),
            std::string::npos)
      << run.receiver->stderr_text();
  ExpectDestinationUntouched(before);
}

}  // namespace
}  // namespace xfer::testing
