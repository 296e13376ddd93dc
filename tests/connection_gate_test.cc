// The receiver's gate over real loopback sockets and the real server channel: who gets in while
// the receiver waits for its sender, and what happens to everyone else. Deadlines are safety nets
// against hangs unless a test names one as the behaviour under test.
#include "connection_gate.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "socket.h"
#include "socket_probe.h"
#include "xfer/ticket.h"

namespace xfer {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::ClosedByPeer;
using testing::StillOpen;

Deadline Soon() { return Deadline::After(seconds(20)); }

// Every line logged, from any thread.
class LogLines {
 public:
  LogCallback Callback() {
    return [this](LogLevel, std::string_view line) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.emplace_back(line);
    };
  }
  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  size_t Count(const std::string& part) {
    size_t n = 0;
    for (const std::string& line : Lines()) n += line.find(part) != std::string::npos;
    return n;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

class ConnectionGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ListenTcp("127.0.0.1", 0, &listener_, &port_).ok());
    ASSERT_TRUE(Ticket::Generate(port_, true, &ticket_).ok());
    params_.secret = ticket_.secret;
    options_.log = log_.Callback();
    options_.deadline = Soon();
    // Long enough that no silent connection times out by itself unless a test shortens it.
    options_.handshake_timeout = seconds(120);
  }
  void TearDown() override {
    if (gate_.joinable()) gate_.join();
  }

  // Runs AcceptAuthenticated on its own thread; its results are read after JoinGate().
  void StartGate() {
    gate_ = std::thread([this] {
      ChannelParams params = params_;
      auto handshake = [params](Socket socket, Deadline deadline, const CancelToken* cancel,
                                std::unique_ptr<Channel>* out) {
        return OpenServerChannel(std::move(socket), params, deadline, cancel, out);
      };
      gate_status_ = AcceptAuthenticated(listener_, options_, handshake, &server_, &peer_);
    });
  }
  void JoinGate() { gate_.join(); }

  Socket ConnectRaw() {
    Socket socket;
    EXPECT_TRUE(ConnectTcp("127.0.0.1", port_, Soon(), nullptr, &socket).ok());
    return socket;
  }
  Socket ConnectFrom(const char* source) { return testing::ConnectFrom(source, port_); }
  // A connection that sends the first byte of a TLS record and stalls.
  // Sends the first byte of a TLS record and stalls: never a whole first message.
  Socket SpeakAndStall(const char* source = "127.0.0.1") {
    Socket socket = ConnectFrom(source);
    EXPECT_EQ(send(socket.fd(), "\x16", 1, MSG_NOSIGNAL), 1);
    return socket;
  }
  // Sends a whole TLS record holding the start of a ClientHello and stalls: ready for a
  // handshake, which then waits for the rest of the ClientHello.
  Socket StallInHandshake(const char* source = "127.0.0.1") {
    Socket socket = ConnectFrom(source);
    const char record[] = "\x16\x03\x01\x00\x04\x01\x00\x01\x2c";
    EXPECT_EQ(send(socket.fd(), record, sizeof record - 1, MSG_NOSIGNAL), 9);
    return socket;
  }
  // A client with the ticket's secret, or another one; its local "127.0.0.1:PORT" in *name.
  Status ConnectClient(bool right_secret, std::string* name = nullptr) {
    Socket socket = ConnectRaw();
    if (name != nullptr) *name = "127.0.0.1:" + std::to_string(LocalPort(socket.fd()));
    ChannelParams params = params_;
    if (!right_secret) params.secret[0] ^= 1;
    std::unique_ptr<Channel> channel;
    return OpenClientChannel(std::move(socket), params, Soon(), nullptr, &channel);
  }
  static int LocalPort(int fd) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  }
  std::string SecretText() const {
    std::string text = ticket_.Format();
    return text.substr(text.rfind(':') + 1);
  }

  Socket listener_;
  uint16_t port_ = 0;
  Ticket ticket_;
  ChannelParams params_;
  GateOptions options_;
  LogLines log_;
  std::thread gate_;
  Status gate_status_;
  std::unique_ptr<Channel> server_;
  std::string peer_;
};

TEST_F(ConnectionGateTest, SenderGetsInPastMoreSilentConnectionsThanHandshakeSlots) {
  options_.max_handshakes = 2;
  StartGate();
  std::vector<Socket> silent;
  for (int i = 0; i < 10; ++i) silent.push_back(ConnectRaw());
  std::string name;
  Status client = ConnectClient(true, &name);
  JoinGate();
  ASSERT_TRUE(client.ok()) << client.message();
  ASSERT_TRUE(gate_status_.ok()) << gate_status_.message();
  EXPECT_NE(server_, nullptr);
  EXPECT_EQ(peer_, name);
  // The gate logs every connection it gives up on (the first few in full): none was dropped or
  // timed out to let the client in.
  EXPECT_TRUE(log_.Lines().empty()) << log_.Lines()[0];
}

TEST_F(ConnectionGateTest, WrongSecretsAndGarbageAreRejectedWithoutTheSecretAndTheWaitGoesOn) {
  StartGate();
  EXPECT_FALSE(ConnectClient(false).ok());
  Socket garbage = ConnectRaw();
  std::string bytes = "GET / HTTP/1.0\r\n\r\n";
  ASSERT_EQ(send(garbage.fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
  EXPECT_TRUE(ClosedByPeer(garbage, Soon()));
  Status client = ConnectClient(true);
  JoinGate();
  ASSERT_TRUE(client.ok()) << client.message();
  ASSERT_TRUE(gate_status_.ok()) << gate_status_.message();
  EXPECT_EQ(log_.Count("rejected connection from 127.0.0.1:"), 2u);
  for (const std::string& line : log_.Lines()) {
    EXPECT_EQ(line.find(SecretText()), std::string::npos) << "a secret was logged: " << line;
  }
}

TEST_F(ConnectionGateTest, SilentConnectionIsRejectedAtItsDeadline) {
  options_.handshake_timeout = milliseconds(200);
  StartGate();
  Socket silent = ConnectRaw();
  EXPECT_TRUE(ClosedByPeer(silent, Soon()));
  Status client = ConnectClient(true);
  JoinGate();
  ASSERT_TRUE(client.ok()) << client.message();
  ASSERT_TRUE(gate_status_.ok()) << gate_status_.message();
  EXPECT_EQ(log_.Count(": sent no whole first message within 200 ms"), 1u);
}

TEST_F(ConnectionGateTest, DropsTheOldestConnectionWhenTheWaitingRoomIsFull) {
  options_.max_waiting = 4;
  StartGate();
  std::vector<Socket> silent;
  for (int i = 0; i < 5; ++i) silent.push_back(ConnectRaw());
  EXPECT_TRUE(ClosedByPeer(silent[0], Soon())) << "the oldest should make room";
  for (int i = 1; i < 5; ++i) EXPECT_TRUE(StillOpen(silent[i])) << i;
  // The room is full again: the client, newest of all, gets in at the next oldest's expense.
  Status client = ConnectClient(true);
  JoinGate();
  ASSERT_TRUE(client.ok()) << client.message();
  ASSERT_TRUE(gate_status_.ok()) << gate_status_.message();
  EXPECT_EQ(log_.Count("dropped connection from 127.0.0.1:"), 2u);
}

TEST_F(ConnectionGateTest, CapsTheConnectionsWaitingFromOneAddress) {
  options_.max_per_source = 3;
  StartGate();
  std::vector<Socket> crowd;
  for (int i = 0; i < 4; ++i) crowd.push_back(ConnectFrom("127.0.0.2"));
  Socket elsewhere = ConnectFrom("127.0.0.3");
  EXPECT_TRUE(ClosedByPeer(crowd[0], Soon())) << "the address's oldest should make room";
  for (int i = 1; i < 4; ++i) EXPECT_TRUE(StillOpen(crowd[i])) << i;
  EXPECT_TRUE(StillOpen(elsewhere)) << "another address pays for nobody";
  Status client = ConnectClient(true);
  JoinGate();
  ASSERT_TRUE(client.ok()) << client.message();
  ASSERT_TRUE(gate_status_.ok()) << gate_status_.message();
  EXPECT_EQ(log_.Count("dropped connection from 127.0.0.2:"), 1u);
  EXPECT_EQ(log_.Count("the oldest of those waiting from 127.0.0.2 to authenticate"), 1u);
}

TEST_F(ConnectionGateTest, DropsTheOldestConnectionWhenFullEvenIfItSpoke) {
  options_.max_handshakes = 0;  // nothing leaves the room for a handshake
  options_.max_waiting = 4;
  CancelToken cancel;
  options_.cancel = &cancel;
  StartGate();
  std::vector<Socket> spoken;
  for (int i = 0; i < 4; ++i) spoken.push_back(SpeakAndStall());
  Socket newest = ConnectRaw();
  EXPECT_TRUE(ClosedByPeer(spoken[0], Soon())) << "the oldest should make room";
  for (int i = 1; i < 4; ++i) EXPECT_TRUE(StillOpen(spoken[i])) << i;
  EXPECT_TRUE(StillOpen(newest)) << "the newest connection must get in: it may be the sender";
  cancel.Cancel();
  JoinGate();
  EXPECT_EQ(gate_status_.code(), Code::kCancelled) << gate_status_.message();
}

TEST_F(ConnectionGateTest, StalledHandshakeGivesWayToAWaitingSenderAfterTheGrace) {
  options_.max_handshakes = 1;
  options_.handshake_grace = milliseconds(200);
  StartGate();
  Socket stalled = StallInHandshake("127.0.0.2");
  // Without the grace, the sender would wait for the stalled handshake's 120 s deadline.
  Status client = ConnectClient(true);
  JoinGate();
  ASSERT_TRUE(client.ok()) << client.message();
  ASSERT_TRUE(gate_status_.ok()) << gate_status_.message();
  EXPECT_TRUE(ClosedByPeer(stalled, Soon()));
  EXPECT_EQ(log_.Count("dropped connection from 127.0.0.2:"), 1u);
  EXPECT_EQ(log_.Count(": still authenticating after 200 ms while others waited"), 1u);
}

// However fast connections that sent part of a first message come, they push out each other,
// never one whose whole first message arrived: that one may be the sender.
TEST_F(ConnectionGateTest, PartialFirstMessagesNeverPushOutAReadyConnection) {
  options_.max_handshakes = 0;  // nothing leaves the room for a handshake
  options_.max_waiting = 4;
  CancelToken cancel;
  options_.cancel = &cancel;
  StartGate();
  Socket ready = StallInHandshake("127.0.0.2");
  std::vector<Socket> partial;
  for (int i = 0; i < 20; ++i) partial.push_back(SpeakAndStall("127.0.0.3"));
  // The last three partial ones are still in, so the room has judged all before them.
  EXPECT_TRUE(ClosedByPeer(partial[16], Soon()));
  EXPECT_TRUE(StillOpen(ready)) << "a ready connection was pushed out by partial ones";
  cancel.Cancel();
  JoinGate();
  EXPECT_EQ(gate_status_.code(), Code::kCancelled) << gate_status_.message();
}

TEST_F(ConnectionGateTest, FirstBytesThatAreNeitherTlsNorXferAreClosedAtOnce) {
  StartGate();
  Socket http = ConnectFrom("127.0.0.2");
  EXPECT_EQ(send(http.fd(), "GET / HTTP/1.0\r\n\r\n", 18, MSG_NOSIGNAL), 18);
  EXPECT_TRUE(ClosedByPeer(http, Soon()));
  Status client = ConnectClient(true);
  JoinGate();
  ASSERT_TRUE(client.ok()) << client.message();
  EXPECT_EQ(log_.Count("rejected connection from 127.0.0.2:"), 1u);
  EXPECT_EQ(log_.Count("its first bytes are neither TLS nor an xfer hello"), 1u);
}

TEST_F(ConnectionGateTest, TimesOutWhenNobodyAuthenticates) {
  options_.deadline = Deadline::After(milliseconds(100));
  StartGate();
  Socket silent = ConnectRaw();
  JoinGate();
  EXPECT_EQ(gate_status_.code(), Code::kTimeout) << gate_status_.message();
}

TEST_F(ConnectionGateTest, CancelEndsTheWait) {
  CancelToken cancel;
  options_.cancel = &cancel;
  StartGate();
  Socket silent = ConnectRaw();
  cancel.Cancel();
  JoinGate();
  EXPECT_EQ(gate_status_.code(), Code::kCancelled) << gate_status_.message();
}

TEST(LogThrottle, LogsABurstPerWindowThenCounts) {
  LogLines log;
  LogThrottle throttle(log.Callback());
  for (int i = 0; i < 20; ++i) throttle.Warn("line " + std::to_string(i));
  EXPECT_EQ(log.Lines().size(), static_cast<size_t>(LogThrottle::kLogBurst));
  EXPECT_EQ(throttle.suppressed_total(), 20u - LogThrottle::kLogBurst);
}

TEST(ConnectionRefuser, ClosesEveryConnectionAndCountsThem) {
  Socket listener;
  uint16_t port = 0;
  ASSERT_TRUE(ListenTcp("127.0.0.1", 0, &listener, &port).ok());
  LogLines log;
  {
    ConnectionRefuser refuser(std::move(listener), log.Callback());
    for (int i = 0; i < 20; ++i) {
      Socket socket;
      ASSERT_TRUE(ConnectTcp("127.0.0.1", port, Soon(), nullptr, &socket).ok());
      EXPECT_TRUE(ClosedByPeer(socket, Soon())) << i;
    }
  }
  EXPECT_EQ(log.Count("refused connection from 127.0.0.1:"),
            static_cast<size_t>(LogThrottle::kLogBurst));
  EXPECT_EQ(log.Count("refused 20 connections while the transfer ran"), 1u);
}

}  // namespace
}  // namespace xfer
