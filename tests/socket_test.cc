#include "socket.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "socket_probe.h"

namespace xfer {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Generous: a safety net against hangs, never a timing assertion.
Deadline Soon() { return Deadline::After(seconds(20)); }

// Connects from a thread to host:port and accepts on the listener; returns the accepted peer.
void ConnectAndAccept(const Socket& listener, const std::string& host, uint16_t port,
                      std::string* peer) {
  Status connect_status;
  Socket client;
  std::thread connector([&] { connect_status = ConnectTcp(host, port, Soon(), nullptr, &client); });
  Socket server;
  Status accept_status = AcceptTcp(listener, Soon(), nullptr, &server, peer);
  connector.join();
  ASSERT_TRUE(connect_status.ok()) << connect_status.message();
  ASSERT_TRUE(accept_status.ok()) << accept_status.message();
  EXPECT_TRUE(server.valid());
  EXPECT_TRUE(client.valid());
}

TEST(SocketTest, ListenOnPortZeroReportsPortAndAccepts) {
  Socket listener;
  uint16_t port = 0;
  Status status = ListenTcp("", 0, &listener, &port);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_NE(port, 0);
  std::string peer;
  ConnectAndAccept(listener, "127.0.0.1", port, &peer);
  EXPECT_EQ(peer.rfind("127.0.0.1:", 0), 0u) << peer;  // not ::ffff:127.0.0.1
}

TEST(SocketTest, WildcardListenerAcceptsIpv6) {
  Socket listener;
  uint16_t port = 0;
  ASSERT_TRUE(ListenTcp("", 0, &listener, &port).ok());
  std::string peer;
  ConnectAndAccept(listener, "::1", port, &peer);
  EXPECT_EQ(peer.rfind("[::1]:", 0), 0u) << peer;
}

TEST(SocketTest, ListensOnExplicitAddresses) {
  for (const char* address : {"127.0.0.1", "::1", "localhost"}) {
    Socket listener;
    uint16_t port = 0;
    Status status = ListenTcp(address, 0, &listener, &port);
    ASSERT_TRUE(status.ok()) << address << ": " << status.message();
    EXPECT_NE(port, 0);
    std::string peer;
    ConnectAndAccept(listener, address, port, &peer);
  }
}

TEST(SocketTest, AcceptedSocketsAreNonBlockingAndCloseOnExec) {
  Socket listener;
  uint16_t port = 0;
  ASSERT_TRUE(ListenTcp("127.0.0.1", 0, &listener, &port).ok());
  Socket client;
  ASSERT_TRUE(ConnectTcp("127.0.0.1", port, Soon(), nullptr, &client).ok());
  Socket server;
  ASSERT_TRUE(AcceptTcp(listener, Soon(), nullptr, &server, nullptr).ok());
  for (int fd : {listener.fd(), client.fd(), server.fd()}) {
    EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
    EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  }
  for (int fd : {client.fd(), server.fd()}) {
    int value = 0;
    socklen_t len = sizeof value;
    ASSERT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &value, &len), 0);
    EXPECT_NE(value, 0);
    ASSERT_EQ(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &value, &len), 0);
    EXPECT_NE(value, 0);
    ASSERT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &value, &len), 0);
    EXPECT_EQ(value, 30);
  }
}

TEST(SocketTest, ConnectToClosedPortFailsWithNetworkNamingHostAndPort) {
  uint16_t port = 0;
  Socket refusing = testing::RefusingPort(&port);
  Socket client;
  Status status = ConnectTcp("127.0.0.1", port, Soon(), nullptr, &client);
  EXPECT_EQ(status.code(), Code::kNetwork);
  EXPECT_NE(status.message().find("connecting to 127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << status.message();
  EXPECT_FALSE(client.valid());
}

TEST(SocketTest, ListenOnTakenPortFailsWithNetworkNamingAddress) {
  Socket first;
  uint16_t port = 0;
  ASSERT_TRUE(ListenTcp("127.0.0.1", 0, &first, &port).ok());
  Socket second;
  Status status = ListenTcp("127.0.0.1", port, &second, nullptr);
  EXPECT_EQ(status.code(), Code::kNetwork);
  EXPECT_NE(status.message().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << status.message();
}

// Not kNetwork, which a sender would take for a receiver not up yet and try again.
TEST(SocketTest, ConnectToUnknownHostFailsWithInvalidArgument) {
  Socket client;
  Status status = ConnectTcp("no-such-host.invalid", 4401, Soon(), nullptr, &client);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_NE(status.message().find("no-such-host.invalid:4401"), std::string::npos)
      << status.message();
}

TEST(SocketTest, AcceptTimesOutAtDeadline) {
  Socket listener;
  uint16_t port = 0;
  ASSERT_TRUE(ListenTcp("127.0.0.1", 0, &listener, &port).ok());
  Socket server;
  Status status =
      AcceptTcp(listener, Deadline::After(milliseconds(100)), nullptr, &server, nullptr);
  EXPECT_EQ(status.code(), Code::kTimeout) << status.message();
}

TEST(SocketTest, CancelWakesBlockedAccept) {
  Socket listener;
  uint16_t port = 0;
  ASSERT_TRUE(ListenTcp("127.0.0.1", 0, &listener, &port).ok());
  CancelToken cancel;
  Status status;
  std::thread acceptor([&] {
    Socket server;
    status = AcceptTcp(listener, Deadline::Never(), &cancel, &server, nullptr);
  });
  cancel.Cancel();
  acceptor.join();
  EXPECT_EQ(status.code(), Code::kCancelled) << status.message();
}

TEST(SocketTest, CancelledTokenStopsConnect) {
  Socket listener;
  uint16_t port = 0;
  ASSERT_TRUE(ListenTcp("127.0.0.1", 0, &listener, &port).ok());
  CancelToken cancel;
  cancel.Cancel();
  Socket client;
  Status status = ConnectTcp("127.0.0.1", port, Soon(), &cancel, &client);
  EXPECT_EQ(status.code(), Code::kCancelled) << status.message();
}

TEST(SocketTest, WaitFdReportsReadableAndTimesOut) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  Socket a(fds[0]), b(fds[1]);
  short revents = 0;
  EXPECT_EQ(WaitFd(a.fd(), POLLIN, Deadline::After(milliseconds(10)), nullptr, &revents).code(),
            Code::kTimeout);
  ASSERT_EQ(write(b.fd(), "x", 1), 1);
  ASSERT_TRUE(WaitFd(a.fd(), POLLIN, Soon(), nullptr, &revents).ok());
  EXPECT_TRUE(revents & POLLIN);
}

TEST(SocketTest, JoinHostPortBracketsIpv6) {
  EXPECT_EQ(JoinHostPort("db2", 4401), "db2:4401");
  EXPECT_EQ(JoinHostPort("10.0.0.1", 4401), "10.0.0.1:4401");
  EXPECT_EQ(JoinHostPort("::1", 4401), "[::1]:4401");
}

}  // namespace
}  // namespace xfer

namespace xfer {
namespace {

TEST(PeerIsLocalTest, LoopbackPeerIsLocal) {
  Socket listener;
  uint16_t port = 0;
  ASSERT_TRUE(ListenTcp("127.0.0.1", 0, &listener, &port).ok());
  Socket client;
  Deadline deadline = Deadline::After(std::chrono::seconds(10));
  ASSERT_TRUE(ConnectTcp("127.0.0.1", port, deadline, nullptr, &client).ok());
  EXPECT_TRUE(PeerIsLocal(client.fd()));
  EXPECT_FALSE(PeerIsLocal(listener.fd())) << "a listening socket has no peer";
}

}  // namespace
}  // namespace xfer
