// Liveness of transfer connections: every connected or accepted socket probes an idle peer and
// gives up on unacknowledged data within about a minute, and a sender whose receiver vanished
// without a FIN or RST (its link cut mid-transfer, in network namespaces) fails with an error
// naming it instead of hanging.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "netns_lan.h"
#include "program_paths.h"
#include "socket.h"
#include "temp_dir.h"
#include "transfer_harness.h"

namespace xfer::testing {
namespace {

int IntOption(int fd, int level, int name) {
  int value = -1;
  socklen_t len = sizeof value;
  EXPECT_EQ(getsockopt(fd, level, name, &value, &len), 0) << "option " << name;
  return value;
}

TEST(KeepaliveTest, BothEndsProbeIdlePeersAndTimeOutUnacknowledgedData) {
  Socket listener;
  uint16_t port = 0;
  ASSERT_TRUE(ListenTcp("127.0.0.1", 0, &listener, &port).ok());
  Socket client;
  Status connected;
  std::thread connecting([&] {
    connected =
        ConnectTcp("127.0.0.1", port, Deadline::After(std::chrono::seconds(20)), nullptr, &client);
  });
  Socket server;
  Status accepted =
      AcceptTcp(listener, Deadline::After(std::chrono::seconds(20)), nullptr, &server, nullptr);
  connecting.join();
  ASSERT_TRUE(connected.ok()) << connected.message();
  ASSERT_TRUE(accepted.ok()) << accepted.message();
  for (int fd : {client.fd(), server.fd()}) {
    SCOPED_TRACE(fd == client.fd() ? "connected end" : "accepted end");
    EXPECT_EQ(IntOption(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
    EXPECT_EQ(IntOption(fd, IPPROTO_TCP, TCP_KEEPIDLE), 30);
    EXPECT_EQ(IntOption(fd, IPPROTO_TCP, TCP_KEEPINTVL), 10);
    EXPECT_EQ(IntOption(fd, IPPROTO_TCP, TCP_KEEPCNT), 3);
    EXPECT_EQ(IntOption(fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 60'000);
  }
}

// Runs `ip ARGS` in host `host` of lan; fails the test when it does not succeed.
void Ip(const NetnsLan& lan, int host, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/sbin/ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess ip(lan.Exec(host, argv));
  ASSERT_EQ(ip.Wait(std::chrono::seconds(30)), 0) << ip.stderr_text();
}

// Host 0 sends to host 1; once data flows, host 1's link goes down: its packets, FIN and RST
// included, are lost from then on, as when a machine loses power. The rate limit keeps the
// transfer going long enough to be cut in the middle.
TEST(KeepaliveTest, SenderWhoseReceiverVanishedFailsNamingItInsteadOfHanging) {
  NetnsLan lan(2);
  if (!lan.status().ok()) GTEST_SKIP() << lan.status().message();
  TempDir dir;
  std::filesystem::create_directories(dir.Sub("src/data"));
  std::filesystem::create_directory(dir.Sub("dst"));
  WriteRandomFile(dir.Sub("src/data/random.bin"), 64 << 20);
  const std::string receiver_address = lan.host_address(1);

  ChildProcess receiver(lan.Exec(1, {XferRecvPath(), "--listen", receiver_address, "--timeout",
                                     "60", "--idle-timeout", "3", dir.Sub("dst")}));
  std::string ticket = receiver.ReadStdoutLine();
  ASSERT_FALSE(ticket.empty()) << receiver.stderr_text();
  ChildProcess sender(
      lan.Exec(0, {XferSendPath(), "--to", receiver_address, "--timeout", "60", "--idle-timeout",
                   "3", "--limit-rate", "4M", "--no-compress", "--json", dir.Sub("src/data")}));
  sender.WriteStdin(ticket + "\n");
  sender.CloseStdin();
  std::string progress = sender.ReadStdoutLine();
  ASSERT_NE(progress.find("\"event\":\"progress\""), std::string::npos)
      << progress << sender.stderr_text();

  Ip(lan, 1, {"link", "set", NetnsLan::kHostInterface, "down"});

  // The deadline only guards against a hang; the sender's own idle timeout is 3 s.
  EXPECT_EQ(sender.Wait(std::chrono::seconds(50)), 1) << sender.stderr_text();
  EXPECT_NE(sender.stderr_text().find("xfer-send: error: sending to " + receiver_address + ":"),
            std::string::npos)
      << sender.stderr_text();
  EXPECT_EQ(receiver.Wait(std::chrono::seconds(50)), 1) << receiver.stderr_text();
  EXPECT_EQ(ListDirIgnoringStaging(dir.Sub("dst")), std::vector<std::string>{});
}

}  // namespace
}  // namespace xfer::testing
