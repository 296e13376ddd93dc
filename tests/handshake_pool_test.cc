// HandshakePool over real loopback sockets and the real server channel. Deadlines here are safety
// nets against hangs, never sleeps: a handshake that would take them means the test failed.
#include "handshake_pool.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "socket.h"

namespace xfer {
namespace {

using std::chrono::seconds;

Deadline Soon() { return Deadline::After(seconds(20)); }
// Longer than any safety net: a handshake that ends before it was ended by something else.
Deadline Later() { return Deadline::After(seconds(120)); }

ChannelParams Params() {
  ChannelParams params;
  for (size_t i = 0; i < params.secret.size(); ++i) params.secret[i] = static_cast<uint8_t>(i);
  return params;
}

HandshakePool::Handshake ServerHandshake() {
  return [](Socket socket, Deadline deadline, const CancelToken* cancel,
            std::unique_ptr<Channel>* out) {
    return OpenServerChannel(std::move(socket), Params(), deadline, cancel, out);
  };
}

class HandshakePoolTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(ListenTcp("127.0.0.1", 0, &listener_, &port_).ok()); }

  // A connected pair: *client is ours to drive, the accepted end is returned for the pool.
  Socket Connect(Socket* client, std::string* peer = nullptr) {
    EXPECT_TRUE(ConnectTcp("127.0.0.1", port_, Soon(), nullptr, client).ok());
    Socket server;
    EXPECT_TRUE(AcceptTcp(listener_, Soon(), nullptr, &server, peer).ok());
    return server;
  }

  // Collects outcomes until `count` arrived or the safety deadline passed.
  static std::vector<HandshakePool::Outcome> WaitFor(HandshakePool* pool, size_t count) {
    std::vector<HandshakePool::Outcome> all;
    Deadline deadline = Soon();
    while (all.size() < count) {
      if (!WaitFd(pool->ready_fd(), POLLIN, deadline, nullptr, nullptr).ok()) break;
      for (HandshakePool::Outcome& outcome : pool->TakeFinished())
        all.push_back(std::move(outcome));
    }
    return all;
  }

  Socket listener_;
  uint16_t port_ = 0;
};

TEST_F(HandshakePoolTest, AuthenticatesAPeerWhileSilentOnesHoldOtherSlots) {
  HandshakePool pool(4, ServerHandshake());
  std::vector<Socket> silent(3);
  for (Socket& client : silent) {
    Socket server = Connect(&client);
    ASSERT_TRUE(pool.TryStart(&server, "silent", Later()));
  }
  Socket client;
  std::string peer;
  Socket server = Connect(&client, &peer);
  Status client_status;
  std::unique_ptr<Channel> client_channel;
  std::thread real([&] {
    client_status =
        OpenClientChannel(std::move(client), Params(), Soon(), nullptr, &client_channel);
  });
  ASSERT_TRUE(pool.TryStart(&server, peer, Later()));
  std::vector<HandshakePool::Outcome> outcomes = WaitFor(&pool, 1);
  real.join();
  ASSERT_TRUE(client_status.ok()) << client_status.message();
  ASSERT_EQ(outcomes.size(), 1u) << "the real peer waited behind the silent ones";
  EXPECT_TRUE(outcomes[0].status.ok()) << outcomes[0].status.message();
  EXPECT_EQ(outcomes[0].peer, peer);
  EXPECT_NE(outcomes[0].channel, nullptr);
  EXPECT_TRUE(pool.TakeFinished().empty()) << "a silent handshake ended early";
}

TEST_F(HandshakePoolTest, LeavesASocketBeyondTheLimitWithTheCaller) {
  HandshakePool pool(2, ServerHandshake());
  std::vector<Socket> clients(3);
  for (int i = 0; i < 2; ++i) {
    Socket server = Connect(&clients[i]);
    ASSERT_TRUE(pool.TryStart(&server, "silent", Later()));
  }
  EXPECT_TRUE(pool.Full());
  Socket server = Connect(&clients[2]);
  EXPECT_FALSE(pool.TryStart(&server, "third", Later()));
  EXPECT_TRUE(server.valid()) << "the refused socket must stay with the caller";
}

TEST_F(HandshakePoolTest, ASlotStaysTakenUntilItsOutcomeIsCollected) {
  HandshakePool pool(1, ServerHandshake());
  Socket client;
  Socket server = Connect(&client);
  std::string garbage = "GET / HTTP/1.0\r\n\r\n";
  ASSERT_EQ(send(client.fd(), garbage.data(), garbage.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(garbage.size()));
  ASSERT_TRUE(pool.TryStart(&server, "garbage", Later()));
  ASSERT_TRUE(WaitFd(pool.ready_fd(), POLLIN, Soon(), nullptr, nullptr).ok());
  Socket other_client;
  Socket other = Connect(&other_client);
  EXPECT_FALSE(pool.TryStart(&other, "other", Later())) << "a finished outcome still holds a slot";
  std::vector<HandshakePool::Outcome> outcomes = pool.TakeFinished();
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_FALSE(outcomes[0].status.ok());
  EXPECT_EQ(outcomes[0].channel, nullptr);
  EXPECT_TRUE(pool.TryStart(&other, "other", Later()));
}

TEST_F(HandshakePoolTest, CancelAllEndsStalledHandshakes) {
  HandshakePool pool(3, ServerHandshake());
  std::vector<Socket> clients(3);
  for (Socket& client : clients) {
    Socket server = Connect(&client);
    ASSERT_TRUE(pool.TryStart(&server, "silent", Later()));
  }
  pool.CancelAll();
  std::vector<HandshakePool::Outcome> outcomes = WaitFor(&pool, 3);
  ASSERT_EQ(outcomes.size(), 3u);
  for (const HandshakePool::Outcome& outcome : outcomes) {
    EXPECT_EQ(outcome.status.code(), Code::kCancelled) << outcome.status.message();
  }
}

}  // namespace
}  // namespace xfer
