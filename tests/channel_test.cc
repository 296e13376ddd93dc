// Channel tests over real loopback sockets, the two ends on two threads. Deadlines here are
// safety nets against hangs (or, where named, the behaviour under test), never sleeps.
#include "channel.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "socket.h"

namespace xfer {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Deadline Soon() { return Deadline::After(seconds(20)); }

ChannelParams Params(uint32_t seed, bool encrypt) {
  ChannelParams params;
  std::mt19937 rng(seed);
  for (auto& b : params.secret) b = static_cast<uint8_t>(rng());
  params.encrypt = encrypt;
  return params;
}

std::vector<uint8_t> RandomBytes(size_t size, uint32_t seed) {
  std::vector<uint8_t> data(size);
  std::mt19937 rng(seed);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  return data;
}

struct Ends {
  Status client_status;
  Status server_status;
  std::unique_ptr<Channel> client;
  std::unique_ptr<Channel> server;
};

// Connects a client channel to a server channel through a fresh listener on host. Success or
// not, neither end may leave anything in its thread's OpenSSL error queue.
Ends Open(const ChannelParams& client_params, const ChannelParams& server_params,
          const std::string& host = "127.0.0.1") {
  Ends ends;
  Socket listener;
  uint16_t port = 0;
  Status listen = ListenTcp(host, 0, &listener, &port);
  EXPECT_TRUE(listen.ok()) << listen.message();
  std::thread client([&] {
    Socket socket;
    ends.client_status = ConnectTcp(host, port, Soon(), nullptr, &socket);
    if (ends.client_status.ok()) {
      ends.client_status =
          OpenClientChannel(std::move(socket), client_params, Soon(), nullptr, &ends.client);
    }
    EXPECT_EQ(ERR_peek_error(), 0u);
  });
  Socket socket;
  ends.server_status = AcceptTcp(listener, Soon(), nullptr, &socket, nullptr);
  if (ends.server_status.ok()) {
    ends.server_status =
        OpenServerChannel(std::move(socket), server_params, Soon(), nullptr, &ends.server);
  }
  EXPECT_EQ(ERR_peek_error(), 0u);
  client.join();
  return ends;
}

// Sends size bytes from one end while the other reads them in uneven pieces.
void Transfer(Channel* from, Channel* to, size_t size, uint32_t seed) {
  std::vector<uint8_t> sent = RandomBytes(size, seed);
  std::vector<uint8_t> received(size);
  Status write_status;
  std::thread writer([&] { write_status = from->WriteAll(sent.data(), size, Soon(), nullptr); });
  Status read_status;
  for (size_t done = 0, piece = 1; done < size && read_status.ok(); piece = piece * 7 + 3) {
    size_t n = std::min(size - done, piece % (3 << 20) + 1);
    read_status = to->ReadExact(received.data() + done, n, Soon(), nullptr);
    done += n;
  }
  writer.join();
  ASSERT_TRUE(write_status.ok()) << write_status.message();
  ASSERT_TRUE(read_status.ok()) << read_status.message();
  EXPECT_TRUE(sent == received);
}

// The ways a secret could be spelled in a message: raw, hex, base64, base64url.
std::vector<std::string> SecretSpellings(const Secret& secret) {
  std::vector<std::string> out;
  out.emplace_back(secret.begin(), secret.end());
  std::string hex;
  for (uint8_t b : secret) {
    static const char kDigits[] = "0123456789abcdef";
    hex += kDigits[b >> 4];
    hex += kDigits[b & 15];
  }
  out.push_back(hex);
  std::string upper = hex;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  out.push_back(upper);
  unsigned char b64[64] = {};
  int len = EVP_EncodeBlock(b64, secret.data(), static_cast<int>(secret.size()));
  std::string std64(reinterpret_cast<char*>(b64), len);
  out.push_back(std64);
  std::string url64 = std64;
  std::replace(url64.begin(), url64.end(), '+', '-');
  std::replace(url64.begin(), url64.end(), '/', '_');
  out.push_back(url64);
  // A leak of a part counts too.
  for (size_t i = 1, n = out.size(); i < n; ++i) out.push_back(out[i].substr(0, 12));
  return out;
}

void ExpectNoSecret(const Status& status, const Secret& secret) {
  for (const std::string& spelling : SecretSpellings(secret)) {
    EXPECT_EQ(status.message().find(spelling), std::string::npos) << status.message();
  }
}

bool IsRejection(Code code) { return code == Code::kAuth || code == Code::kProtocol; }

// A raw TCP peer connected to a channel server that is being opened on another thread.
struct RawClientEnds {
  Socket raw;
  Status server_status;
};

// Opens a server channel for a raw client, which sends `bytes` (maybe none) right away.
void ServeRawClient(const ChannelParams& params, const std::string& bytes, Deadline deadline,
                    RawClientEnds* ends) {
  Socket listener;
  uint16_t port = 0;
  ASSERT_TRUE(ListenTcp("127.0.0.1", 0, &listener, &port).ok());
  ASSERT_TRUE(ConnectTcp("127.0.0.1", port, Soon(), nullptr, &ends->raw).ok());
  if (!bytes.empty()) {
    ASSERT_EQ(send(ends->raw.fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  Socket socket;
  ASSERT_TRUE(AcceptTcp(listener, Soon(), nullptr, &socket, nullptr).ok());
  std::unique_ptr<Channel> channel;
  ends->server_status = OpenServerChannel(std::move(socket), params, deadline, nullptr, &channel);
}

// Most behaviours hold for both modes: the parameter is ChannelParams::encrypt.
class ChannelTest : public ::testing::TestWithParam<bool> {
 protected:
  ChannelParams Good() const { return Params(1, GetParam()); }
  ChannelParams Other() const { return Params(2, GetParam()); }
};

INSTANTIATE_TEST_SUITE_P(Modes, ChannelTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Tls" : "Plain"; });

TEST_P(ChannelTest, RoundTripsMegabytesBothWays) {
  Ends ends = Open(Good(), Good());
  ASSERT_TRUE(ends.client_status.ok()) << ends.client_status.message();
  ASSERT_TRUE(ends.server_status.ok()) << ends.server_status.message();
  constexpr size_t kSize = 5 * 1024 * 1024 + 17;
  Transfer(ends.client.get(), ends.server.get(), kSize, 10);
  Transfer(ends.server.get(), ends.client.get(), kSize, 11);
}

TEST_P(ChannelTest, CountsBytesOnTheWire) {
  Ends ends = Open(Good(), Good());
  ASSERT_TRUE(ends.client_status.ok() && ends.server_status.ok());
  constexpr size_t kSize = 3 * 1024 * 1024;
  Transfer(ends.client.get(), ends.server.get(), kSize, 12);
  EXPECT_GE(ends.client->BytesSent(), kSize);
  EXPECT_LE(ends.client->BytesSent(), kSize + kSize / 50 + 4096);  // records, handshake
  EXPECT_EQ(ends.server->BytesReceived(), ends.client->BytesSent());
  if (!GetParam()) {
    // + hello and proof, and a length and tag on each of the three 1 MiB records
    EXPECT_EQ(ends.client->BytesSent(), kSize + 24 + 32 + 3 * (4 + 16));
  }
}

TEST_P(ChannelTest, WrongSecretFailsBothSidesWithAuth) {
  Ends ends = Open(Other(), Good());
  EXPECT_EQ(ends.client_status.code(), Code::kAuth) << ends.client_status.message();
  EXPECT_EQ(ends.server_status.code(), Code::kAuth) << ends.server_status.message();
  EXPECT_NE(ends.server_status.message().find("127.0.0.1:"), std::string::npos);
  for (const Status* status : {&ends.client_status, &ends.server_status}) {
    ExpectNoSecret(*status, Good().secret);
    ExpectNoSecret(*status, Other().secret);
  }
}

TEST_P(ChannelTest, ServerRejectsGarbagePromptly) {
  for (std::string garbage : {std::string("this is not an xfer peer, just some garbage\n"),
                              std::string("\x16\x03\x01\x00\x30", 5) + std::string(48, '\x7f')}) {
    RawClientEnds ends;
    ServeRawClient(Good(), garbage, Soon(), &ends);
    EXPECT_TRUE(IsRejection(ends.server_status.code())) << ends.server_status.message();
  }
}

TEST_P(ChannelTest, ServerTimesOutOnSilentClient) {
  RawClientEnds ends;
  ServeRawClient(Good(), "", Deadline::After(milliseconds(200)), &ends);
  EXPECT_EQ(ends.server_status.code(), Code::kTimeout) << ends.server_status.message();
}

// Starts a client write of far more than socket buffers hold, to a server that never reads (so
// the write blocks), then has the server send one byte "E". after_speaking runs before the
// writer is joined.
Status BlockedWriteInterruptedByPeer(Ends* ends, const std::function<void()>& after_speaking) {
  std::vector<uint8_t> big(128 << 20);
  Status write_status;
  std::thread writer([&] {
    write_status = ends->client->WriteAll(big.data(), big.size(), Soon(), nullptr, true);
  });
  EXPECT_TRUE(ends->server->WriteAll("E", 1, Soon(), nullptr).ok());
  after_speaking();
  writer.join();
  return write_status;
}

TEST_P(ChannelTest, BlockedWriterYieldsWhenPeerSpeaks) {
  Ends ends = Open(Good(), Good());
  ASSERT_TRUE(ends.client_status.ok() && ends.server_status.ok());
  Status write_status = BlockedWriteInterruptedByPeer(&ends, [] {});
  EXPECT_EQ(write_status.code(), Code::kPeerFailed) << write_status.message();
  char got = 0;
  ASSERT_TRUE(ends.client->ReadExact(&got, 1, Soon(), nullptr).ok());
  EXPECT_EQ(got, 'E');
  // The write stopped mid-message: the stream cannot carry another one.
  EXPECT_EQ(ends.client->WriteAll("x", 1, Soon(), nullptr).code(), Code::kNetwork);
}

TEST_P(ChannelTest, WriterYieldsAndCanReadWhenPeerSpeaksAndHangsUp) {
  Ends ends = Open(Good(), Good());
  ASSERT_TRUE(ends.client_status.ok() && ends.server_status.ok());
  Status write_status = BlockedWriteInterruptedByPeer(&ends, [&] {
    ends.server.reset();  // closes with unread data: the writer's socket gets a reset
  });
  EXPECT_EQ(write_status.code(), Code::kPeerFailed) << write_status.message();
  char got = 0;
  Status read_status = ends.client->ReadExact(&got, 1, Soon(), nullptr);
  ASSERT_TRUE(read_status.ok()) << read_status.message();
  EXPECT_EQ(got, 'E');
}

TEST_P(ChannelTest, InputPendingSeesUnreadBytes) {
  Ends ends = Open(Good(), Good());
  ASSERT_TRUE(ends.client_status.ok() && ends.server_status.ok());
  EXPECT_FALSE(ends.client->InputPending());
  ASSERT_TRUE(ends.server->WriteAll("ab", 2, Soon(), nullptr).ok());
  char got = 0;
  ASSERT_TRUE(ends.client->ReadExact(&got, 1, Soon(), nullptr).ok());
  EXPECT_TRUE(ends.client->InputPending());  // "b" arrived with "a"
}

TEST_P(ChannelTest, CloseWriteEndsOneDirectionOnly) {
  Ends ends = Open(Good(), Good());
  ASSERT_TRUE(ends.client_status.ok() && ends.server_status.ok());
  ASSERT_TRUE(ends.client->WriteAll("hello", 5, Soon(), nullptr).ok());
  ends.client->CloseWrite();
  char buf[8] = {};
  ASSERT_TRUE(ends.server->ReadExact(buf, 5, Soon(), nullptr).ok());
  EXPECT_EQ(std::string(buf, 5), "hello");
  Status end = ends.server->ReadExact(buf, 1, Soon(), nullptr);
  EXPECT_EQ(end.code(), Code::kNetwork) << end.message();
  EXPECT_TRUE(ends.server->InputPending());  // the end of stream is "pending" too
  ASSERT_TRUE(ends.server->WriteAll("bye", 3, Soon(), nullptr).ok());
  ASSERT_TRUE(ends.client->ReadExact(buf, 3, Soon(), nullptr).ok());
  EXPECT_EQ(std::string(buf, 3), "bye");
}

TEST_P(ChannelTest, AbruptCloseEndsReadsWithNetworkError) {
  Ends ends = Open(Good(), Good());
  ASSERT_TRUE(ends.client_status.ok() && ends.server_status.ok());
  ASSERT_TRUE(ends.server->WriteAll("abc", 3, Soon(), nullptr).ok());
  ends.server.reset();  // no CloseWrite: with TLS, no close_notify either
  char buf[3];
  ASSERT_TRUE(ends.client->ReadExact(buf, 3, Soon(), nullptr).ok());
  Status status = ends.client->ReadExact(buf, 1, Soon(), nullptr);
  EXPECT_EQ(status.code(), Code::kNetwork) << status.message();
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST_P(ChannelTest, ReadTimesOutAtDeadline) {
  Ends ends = Open(Good(), Good());
  ASSERT_TRUE(ends.client_status.ok() && ends.server_status.ok());
  char buf[1];
  Status status = ends.client->ReadExact(buf, 1, Deadline::After(milliseconds(100)), nullptr);
  EXPECT_EQ(status.code(), Code::kTimeout) << status.message();
}

TEST_P(ChannelTest, CancelWakesBlockedRead) {
  Ends ends = Open(Good(), Good());
  ASSERT_TRUE(ends.client_status.ok() && ends.server_status.ok());
  CancelToken cancel;
  Status status;
  std::thread reader([&] {
    char buf[1];
    status = ends.client->ReadExact(buf, 1, Deadline::Never(), &cancel);
  });
  cancel.Cancel();
  reader.join();
  EXPECT_EQ(status.code(), Code::kCancelled) << status.message();
}

TEST_P(ChannelTest, WorksOverIpv6) {
  Ends ends = Open(Good(), Good(), "::1");
  ASSERT_TRUE(ends.client_status.ok()) << ends.client_status.message();
  ASSERT_TRUE(ends.server_status.ok()) << ends.server_status.message();
  Transfer(ends.client.get(), ends.server.get(), 100000, 13);
}

TEST(TlsChannelTest, NegotiatesAes128GcmOverX25519) {
  Ends ends = Open(Params(1, true), Params(1, true));
  ASSERT_TRUE(ends.client_status.ok() && ends.server_status.ok());
  for (const Channel* channel : {ends.client.get(), ends.server.get()}) {
    EXPECT_EQ(channel->Describe(), "TLSv1.3 TLS_AES_128_GCM_SHA256 X25519");
  }
}

TEST(PlainChannelTest, DescribesItselfAsUnencrypted) {
  Ends ends = Open(Params(1, false), Params(1, false));
  ASSERT_TRUE(ends.client_status.ok() && ends.server_status.ok());
  EXPECT_NE(ends.client->Describe().find("not encrypted"), std::string::npos);
}

// Plain mode 1 sent the data without MACs: its clients are refused by name, never trusted.
TEST(PlainChannelTest, RefusesAPlainMode1ClientByName) {
  Socket listener;
  uint16_t port = 0;
  ASSERT_TRUE(ListenTcp("127.0.0.1", 0, &listener, &port).ok());
  std::thread client([&] {
    Socket socket;
    ASSERT_TRUE(ConnectTcp("127.0.0.1", port, Soon(), nullptr, &socket).ok());
    std::string hello = "XFERAUTH" + std::string(16, '\x01');
    ASSERT_EQ(send(socket.fd(), hello.data(), hello.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(hello.size()));
    char byte;
    // The server hangs up: an end of stream (or a reset), never an answer.
    ASSERT_TRUE(WaitFd(socket.fd(), POLLIN, Soon(), nullptr, nullptr).ok());
    EXPECT_LE(recv(socket.fd(), &byte, 1, 0), 0);
  });
  Socket socket;
  ASSERT_TRUE(AcceptTcp(listener, Soon(), nullptr, &socket, nullptr).ok());
  std::unique_ptr<Channel> server;
  Status status = OpenServerChannel(std::move(socket), Params(1, false), Soon(), nullptr, &server);
  client.join();
  EXPECT_EQ(status.code(), Code::kProtocol);
  EXPECT_NE(status.message().find("peer speaks plain mode 1"), std::string::npos)
      << status.message();
}

TEST(ModeMismatchTest, TlsClientAgainstPlainServerFailsBothSides) {
  Ends ends = Open(Params(1, true), Params(1, false));
  EXPECT_TRUE(IsRejection(ends.client_status.code())) << ends.client_status.message();
  EXPECT_TRUE(IsRejection(ends.server_status.code())) << ends.server_status.message();
}

TEST(ModeMismatchTest, PlainClientAgainstTlsServerFailsBothSides) {
  Ends ends = Open(Params(1, false), Params(1, true));
  EXPECT_TRUE(IsRejection(ends.client_status.code())) << ends.client_status.message();
  EXPECT_TRUE(IsRejection(ends.server_status.code())) << ends.server_status.message();
}

}  // namespace
}  // namespace xfer
