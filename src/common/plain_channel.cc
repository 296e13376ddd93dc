// PlainChannel: mutual authentication by HMAC-SHA256 challenge-response, then bytes in clear
// (the receiver's --no-encrypt choice, for trusted networks).
//
// Wire layout of the authentication, all fields fixed-size, no length fields:
//
//   K  = HKDF-SHA256(ikm = ticket secret (32 bytes), salt = none (RFC 5869: 32 zero bytes),
//        info = "xfer1 plain hmac auth"), 32 bytes (key_derivation.h, kAuthKeyLabel)
//   Nc, Ns = 16 bytes each from the OS CSPRNG (RAND_bytes), fresh per connection
//
//   1. client -> server, 24 bytes: "XFERAUTH" (8 ASCII bytes, 58 46 45 52 41 55 54 48) || Nc
//   2. server -> client, 24 bytes: "XFERAUTH" || Ns
//   3. client -> server, 32 bytes: HMAC-SHA256(K, "client" || Ns || Nc)
//   4. server -> client, 32 bytes: HMAC-SHA256(K, "server" || Ns || Nc)
//      ("client" and "server" are the 6 ASCII bytes, no terminator; the HMAC input is 38 bytes)
//
// The server sends message 4 only when message 3 verified (CRYPTO_memcmp); otherwise it closes
// the connection, which the client reports as kAuth. The client checks message 4 the same way.
// After message 4 the application's bytes follow in both directions, unframed by this layer.
//
// The client speaks first so that a mode mismatch fails at once instead of both ends waiting for
// the other until the deadline: a TLS server reads "XFERAUTH" as a bad record header and aborts,
// and a plain server sees a TLS ClientHello (first byte 0x16) where the magic should be and
// answers with a TLS protocol_version alert. Either way the client hears a definite no, unlike a
// plain hang-up before authentication, which the sender takes for a busy receiver and retries.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "channel.h"
#include "key_derivation.h"

namespace xfer {

namespace {

constexpr char kMagic[8] = {'X', 'F', 'E', 'R', 'A', 'U', 'T', 'H'};
constexpr size_t kNonceSize = 16;
constexpr size_t kHelloSize = sizeof kMagic + kNonceSize;
constexpr size_t kMacSize = 32;
constexpr uint8_t kTlsHandshakeRecord = 0x16;
constexpr uint8_t kTlsAlertRecord = 0x15;

using Nonce = std::array<uint8_t, kNonceSize>;
using Mac = std::array<uint8_t, kMacSize>;

// HMAC-SHA256(key, role || server_nonce || client_nonce); role is "client" or "server".
bool ComputeMac(const DerivedKey& key, const char (&role)[7], const Nonce& server_nonce,
                const Nonce& client_nonce, Mac* out) {
  uint8_t input[6 + 2 * kNonceSize];
  std::memcpy(input, role, 6);
  std::memcpy(input + 6, server_nonce.data(), kNonceSize);
  std::memcpy(input + 6 + kNonceSize, client_nonce.data(), kNonceSize);
  unsigned int len = 0;
  return HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), input, sizeof input,
              out->data(), &len) != nullptr &&
         len == kMacSize;
}

class PlainChannel : public Channel {
 public:
  explicit PlainChannel(Socket socket)
      : socket_(std::move(socket)), peer_(PeerName(socket_.fd())) {}

  Status Authenticate(const Secret& secret, ChannelRole role, Deadline deadline,
                      const CancelToken* cancel) {
    DerivedKey key;
    XFER_RETURN_IF_ERROR(DeriveKey(secret, kAuthKeyLabel, &key));
    Nonce mine;
    if (RAND_bytes(mine.data(), static_cast<int>(mine.size())) != 1) {
      return Status(Code::kIoError, "authentication: no random bytes from OpenSSL");
    }
    return role == ChannelRole::kClient ? ClientAuth(key, mine, deadline, cancel)
                                        : ServerAuth(key, mine, deadline, cancel);
  }

  Status WriteAll(const void* data, size_t len, Deadline deadline, const CancelToken* cancel,
                  bool yield_to_input) override {
    if (write_broken_) {
      return Status(Code::kNetwork, "sending to " + peer_ + ": stream already failed");
    }
    Status status =
        Send(static_cast<const uint8_t*>(data), len, deadline, cancel, yield_to_input, false);
    if (status.ok()) return status;
    write_broken_ = true;  // the peer may hold part of a message
    return status.WithContext("sending to " + peer_);
  }

  Status ReadExact(void* data, size_t len, Deadline deadline, const CancelToken* cancel) override {
    size_t got = 0;
    Status status = Receive(static_cast<uint8_t*>(data), len, deadline, cancel, false, &got);
    if (status.ok() && got < len) status = Status(Code::kNetwork, "peer closed the connection");
    return status.WithContext("receiving from " + peer_);
  }

  bool InputPending() override {
    pollfd pfd{socket_.fd(), POLLIN, 0};
    return poll(&pfd, 1, 0) > 0 && pfd.revents != 0;
  }

  void CloseWrite() override { (void)shutdown(socket_.fd(), SHUT_WR); }

  uint64_t BytesSent() const override { return sent_.load(std::memory_order_relaxed); }
  uint64_t BytesReceived() const override { return received_.load(std::memory_order_relaxed); }
  std::string Describe() const override {
    return "plain (HMAC-SHA256 authenticated, not encrypted)";
  }

 private:
  Status ClientAuth(const DerivedKey& key, const Nonce& client_nonce, Deadline deadline,
                    const CancelToken* cancel) {
    std::string where = "authentication with " + peer_ + " failed";
    uint8_t hello[kHelloSize];
    std::memcpy(hello, kMagic, sizeof kMagic);
    std::memcpy(hello + sizeof kMagic, client_nonce.data(), kNonceSize);
    XFER_RETURN_IF_ERROR(
        Send(hello, sizeof hello, deadline, cancel, false, true).WithContext(where));

    size_t got = 0;
    Status status = Receive(hello, sizeof hello, deadline, cancel, true, &got);
    if (!status.ok() && status.code() != Code::kNetwork) return status.WithContext(where);
    if (got > 0 && (hello[0] == kTlsAlertRecord || hello[0] == kTlsHandshakeRecord)) {
      return Status(Code::kProtocol, where + ": peer answered in TLS (does it expect encryption?)");
    }
    // A receiver busy with another sender or a flood hangs up like this: kNetwork, which the
    // sender tries again. A TLS receiver answers with an alert instead (above).
    if (!status.ok() || got < sizeof hello) {
      return Status(Code::kNetwork, where +
                                        ": peer closed the connection before authenticating "
                                        "(does it expect encryption?)");
    }
    if (std::memcmp(hello, kMagic, sizeof kMagic) != 0) {
      return Status(Code::kProtocol, where + ": peer is not an xfer endpoint");
    }
    Nonce server_nonce;
    std::memcpy(server_nonce.data(), hello + sizeof kMagic, kNonceSize);

    Mac proof, expected, answer;
    if (!ComputeMac(key, "client", server_nonce, client_nonce, &proof) ||
        !ComputeMac(key, "server", server_nonce, client_nonce, &expected)) {
      return Status(Code::kIoError, where + ": HMAC failed");
    }
    XFER_RETURN_IF_ERROR(
        Send(proof.data(), proof.size(), deadline, cancel, false, true).WithContext(where));
    status = Receive(answer.data(), answer.size(), deadline, cancel, true, &got);
    if (!status.ok() && status.code() != Code::kNetwork) return status.WithContext(where);
    // The server hangs up instead of answering when our proof did not verify.
    if (!status.ok() || got < answer.size() ||
        CRYPTO_memcmp(answer.data(), expected.data(), kMacSize) != 0) {
      return Status(Code::kAuth, where + ": peer does not hold the ticket's secret");
    }
    return Status::Ok();
  }

  Status ServerAuth(const DerivedKey& key, const Nonce& server_nonce, Deadline deadline,
                    const CancelToken* cancel) {
    std::string where = "authentication with " + peer_ + " failed";
    uint8_t hello[kHelloSize];
    size_t got = 0;
    Status status = Receive(hello, sizeof hello, deadline, cancel, true, &got);
    if (!status.ok() && status.code() != Code::kNetwork) return status.WithContext(where);
    if (got > 0 && hello[0] == kTlsHandshakeRecord) {
      // Said in TLS, so that the client knows this is a definite no and does not try again.
      (void)send(socket_.fd(), kTlsProtocolVersionAlert, sizeof kTlsProtocolVersionAlert,
                 MSG_NOSIGNAL);
      return Status(Code::kProtocol,
                    where + ": peer started a TLS handshake, but this end runs without encryption");
    }
    if (!status.ok() || got < sizeof hello) {
      return Status(Code::kProtocol, where + ": peer closed the connection before authenticating");
    }
    if (std::memcmp(hello, kMagic, sizeof kMagic) != 0) {
      return Status(Code::kProtocol, where + ": peer is not an xfer endpoint");
    }
    Nonce client_nonce;
    std::memcpy(client_nonce.data(), hello + sizeof kMagic, kNonceSize);
    std::memcpy(hello + sizeof kMagic, server_nonce.data(), kNonceSize);
    XFER_RETURN_IF_ERROR(
        Send(hello, sizeof hello, deadline, cancel, false, true).WithContext(where));

    Mac proof, expected, answer;
    if (!ComputeMac(key, "client", server_nonce, client_nonce, &expected) ||
        !ComputeMac(key, "server", server_nonce, client_nonce, &answer)) {
      return Status(Code::kIoError, where + ": HMAC failed");
    }
    status = Receive(proof.data(), proof.size(), deadline, cancel, true, &got);
    if (!status.ok() && status.code() != Code::kNetwork) return status.WithContext(where);
    if (!status.ok() || got < proof.size()) {
      return Status(Code::kProtocol, where + ": peer closed the connection while authenticating");
    }
    if (CRYPTO_memcmp(proof.data(), expected.data(), kMacSize) != 0) {
      return Status(Code::kAuth, where + ": peer does not hold the ticket's secret");
    }
    return Send(answer.data(), answer.size(), deadline, cancel, false, true).WithContext(where);
  }

  // Sends all of data. strict: give up once the deadline passed, even with the socket writable
  // (bounds the authentication against a peer that trickles). Messages leave the context to
  // the caller.
  Status Send(const uint8_t* p, size_t len, Deadline deadline, const CancelToken* cancel,
              bool yield_to_input, bool strict) {
    while (len > 0) {
      ssize_t n = send(socket_.fd(), p, len, MSG_NOSIGNAL);
      if (n > 0) {
        sent_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
        p += n;
        len -= static_cast<size_t>(n);
        continue;
      }
      int err = errno;
      if (n < 0 && err == EINTR) continue;
      if (n < 0 && err != EAGAIN && err != EWOULDBLOCK) {
        // A peer that reports an error and hangs up makes our write fail; its message is still
        // there to read.
        if (yield_to_input && InputPending()) return PeerSpoke();
        return Status(Code::kNetwork, std::strerror(err));
      }
      if (strict && deadline.Expired()) return Status(Code::kTimeout, "timed out");
      short revents = 0;
      Status status = WaitFd(socket_.fd(), yield_to_input ? POLLOUT | POLLIN : POLLOUT, deadline,
                             cancel, &revents);
      XFER_RETURN_IF_ERROR(status);
      if (yield_to_input && (revents & POLLIN)) return PeerSpoke();
    }
    return Status::Ok();
  }

  // Reads until len bytes or the end of the stream; *got says how many arrived. A reset or other
  // socket error is kNetwork (with *got still set).
  Status Receive(uint8_t* p, size_t len, Deadline deadline, const CancelToken* cancel, bool strict,
                 size_t* got) {
    *got = 0;
    while (*got < len) {
      ssize_t n = recv(socket_.fd(), p + *got, len - *got, 0);
      if (n > 0) {
        received_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
        *got += static_cast<size_t>(n);
        continue;
      }
      if (n == 0) return Status::Ok();
      int err = errno;
      if (err == EINTR) continue;
      if (err != EAGAIN && err != EWOULDBLOCK) {
        return Status(Code::kNetwork, std::strerror(err));
      }
      if (strict && deadline.Expired()) return Status(Code::kTimeout, "timed out");
      XFER_RETURN_IF_ERROR(WaitFd(socket_.fd(), POLLIN, deadline, cancel, nullptr));
    }
    return Status::Ok();
  }

  static Status PeerSpoke() {
    return Status(Code::kPeerFailed, "peer sent data while we waited to send");
  }

  Socket socket_;
  std::string peer_;
  // Read by other threads for progress reports while the owning thread does the I/O.
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> received_{0};
  bool write_broken_ = false;  // a WriteAll gave up midway; reading still works
};

}  // namespace

Status OpenPlainChannel(Socket socket, const Secret& secret, ChannelRole role, Deadline deadline,
                        const CancelToken* cancel, std::unique_ptr<Channel>* out) {
  auto channel = std::make_unique<PlainChannel>(std::move(socket));
  XFER_RETURN_IF_ERROR(channel->Authenticate(secret, role, deadline, cancel));
  *out = std::move(channel);
  return Status::Ok();
}

}  // namespace xfer
