// PlainChannel: mutual authentication by HMAC-SHA256 challenge-response, then bytes in clear but
// authenticated, record by record (the receiver's --no-encrypt choice, for networks where
// confidentiality is not needed). Plain-mode protocol version 2.
//
// Wire layout of the authentication, all fields fixed-size, no length fields:
//
//   K  = HKDF-SHA256(ikm = ticket secret (32 bytes), salt = none (RFC 5869: 32 zero bytes),
//        info = "xfer1 plain hmac auth"), 32 bytes (key_derivation.h, kAuthKeyLabel)
//   Nc, Ns = 16 bytes each from the OS CSPRNG (RAND_bytes), fresh per connection
//
//   1. client -> server, 24 bytes: "XFERAUT2" (8 ASCII bytes, 58 46 45 52 41 55 54 32) || Nc
//   2. server -> client, 24 bytes: "XFERAUT2" || Ns
//   3. client -> server, 32 bytes: HMAC-SHA256(K, "client" || Ns || Nc)
//   4. server -> client, 32 bytes: HMAC-SHA256(K, "server" || Ns || Nc)
//      ("client" and "server" are the 6 ASCII bytes, no terminator; the HMAC input is 38 bytes)
//
// The server sends message 4 only when message 3 verified (CRYPTO_memcmp); otherwise it closes
// the connection, which the client reports as kAuth. The client checks message 4 the same way.
//
// After message 4 each direction is a sequence of records, numbered from 0 per direction:
//
//   u32 length (1 .. 1 MiB, little-endian) || body (length bytes) || tag (16 bytes)
//   tag = ChaCha20-Poly1305 with an empty plaintext (record_mac.h) under the direction's key,
//         nonce = 4 zero bytes || u64 record number, additional data = body || length field
//   keys = HKDF-SHA256(secret, info = LABEL || Nc || Ns), LABEL = "xfer1 plain mac client to
//          server" one way and "xfer1 plain mac server to client" the other
//
// A body reaches the caller only after its tag verified, so a changed, dropped, reordered,
// replayed or reflected record, or one from another connection, fails the read (kCorrupt). Each
// WriteAll becomes whole records (cut at 1 MiB), so a frame's payload is read straight into the
// caller's buffer. The channel's end is not authenticated: the protocol above it is, as the
// receiver commits only after the TRAILER and the sender succeeds only on the RESULT.
//
// Version 1 (magic "XFERAUTH") sent the bytes after message 4 without tags. A version 1 client is
// told so by name instead of having its stream taken on trust; a version 1 server rejects the new
// magic and hangs up.
//
// The client speaks first so that a mode mismatch fails at once instead of both ends waiting for
// the other until the deadline: a TLS server reads "XFERAUT2" as a bad record header and aborts,
// and a plain server sees a TLS ClientHello (first byte 0x16) where the magic should be and
// answers with a TLS protocol_version alert. Either way the client hears a definite no, unlike a
// plain hang-up before authentication, which the sender takes for a busy receiver and retries.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "channel.h"
#include "key_derivation.h"
#include "record_mac.h"

namespace xfer {

namespace {

constexpr char kMagic[8] = {'X', 'F', 'E', 'R', 'A', 'U', 'T', '2'};
constexpr char kVersion1Magic[8] = {'X', 'F', 'E', 'R', 'A', 'U', 'T', 'H'};
constexpr size_t kNonceSize = 16;
constexpr size_t kHelloSize = sizeof kMagic + kNonceSize;
constexpr size_t kMacSize = 32;
constexpr uint8_t kTlsHandshakeRecord = 0x16;
constexpr uint8_t kTlsAlertRecord = 0x15;
// Largest record body: what the receiver may have to hold when a record is longer than the
// read it serves, so it bounds that buffer.
constexpr size_t kMaxRecord = size_t{1} << 20;
constexpr size_t kRecordHeadSize = 4;
// Read-ahead for record heads, tags and small bodies: one recv serves many of them. Larger reads
// go straight into the caller's buffer.
constexpr size_t kReadAhead = 64 << 10;

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

// The record MAC for one direction: its key is bound to this connection by both nonces.
Status NewRecordMac(const Secret& secret, std::string_view label, const Nonce& client_nonce,
                    const Nonce& server_nonce, std::unique_ptr<RecordMac>* out) {
  uint8_t context[2 * kNonceSize];
  std::memcpy(context, client_nonce.data(), kNonceSize);
  std::memcpy(context + kNonceSize, server_nonce.data(), kNonceSize);
  DerivedKey key;
  XFER_RETURN_IF_ERROR(DeriveKey(secret, label, &key, context));
  return RecordMac::Create(key, out);
}

class PlainChannel : public Channel {
 public:
  explicit PlainChannel(Socket socket)
      : socket_(std::move(socket)), peer_(PeerName(socket_.fd())) {}

  Status Authenticate(const Secret& secret, ChannelRole role, Deadline deadline,
                      const CancelToken* cancel) {
    DerivedKey key;
    XFER_RETURN_IF_ERROR(DeriveKey(secret, kAuthKeyLabel, &key));
    Nonce mine, theirs;
    if (RAND_bytes(mine.data(), static_cast<int>(mine.size())) != 1) {
      return Status(Code::kIoError, "authentication: no random bytes from OpenSSL");
    }
    bool client = role == ChannelRole::kClient;
    XFER_RETURN_IF_ERROR(client ? ClientAuth(key, mine, &theirs, deadline, cancel)
                                : ServerAuth(key, mine, &theirs, deadline, cancel));
    const Nonce& client_nonce = client ? mine : theirs;
    const Nonce& server_nonce = client ? theirs : mine;
    XFER_RETURN_IF_ERROR(NewRecordMac(secret, client ? kClientMacLabel : kServerMacLabel,
                                      client_nonce, server_nonce, &send_mac_));
    XFER_RETURN_IF_ERROR(NewRecordMac(secret, client ? kServerMacLabel : kClientMacLabel,
                                      client_nonce, server_nonce, &receive_mac_));
    read_ahead_.resize(kReadAhead);
    return Status::Ok();
  }

  Status WriteAll(const void* data, size_t len, Deadline deadline, const CancelToken* cancel,
                  bool yield_to_input) override {
    if (write_broken_) {
      return Status(Code::kNetwork, "sending to " + peer_ + ": stream already failed");
    }
    const uint8_t* p = static_cast<const uint8_t*>(data);
    Status status;
    while (len > 0 && status.ok()) {
      size_t n = std::min(len, kMaxRecord);
      status = SendRecord(p, n, deadline, cancel, yield_to_input);
      p += n;
      len -= n;
    }
    if (status.ok()) return status;
    write_broken_ = true;  // the peer may hold part of a message
    return status.WithContext("sending to " + peer_);
  }

  Status ReadExact(void* data, size_t len, Deadline deadline, const CancelToken* cancel) override {
    uint8_t* p = static_cast<uint8_t*>(data);
    while (len > 0) {
      size_t n = std::min(len, record_.size() - record_used_);
      if (n > 0) {
        std::memcpy(p, record_.data() + record_used_, n);
        record_used_ += n;
      } else {
        Status status = ReadRecord(p, len, deadline, cancel, &n);
        if (!status.ok()) return status.WithContext("receiving from " + peer_);
      }
      p += n;
      len -= n;
    }
    return Status::Ok();
  }

  bool InputPending() override {
    if (record_used_ < record_.size() || ahead_begin_ < ahead_end_) return true;
    pollfd pfd{socket_.fd(), POLLIN, 0};
    return poll(&pfd, 1, 0) > 0 && pfd.revents != 0;
  }

  void CloseWrite() override { (void)shutdown(socket_.fd(), SHUT_WR); }

  uint64_t BytesSent() const override { return sent_.load(std::memory_order_relaxed); }
  uint64_t BytesReceived() const override { return received_.load(std::memory_order_relaxed); }
  std::string Describe() const override {
    return "plain (HMAC-SHA256 authenticated, every record MAC'd with Poly1305, not encrypted)";
  }

 private:
  Status ClientAuth(const DerivedKey& key, const Nonce& client_nonce, Nonce* server_nonce,
                    Deadline deadline, const CancelToken* cancel) {
    std::string where = "authentication with " + peer_ + " failed";
    uint8_t hello[kHelloSize];
    std::memcpy(hello, kMagic, sizeof kMagic);
    std::memcpy(hello + sizeof kMagic, client_nonce.data(), kNonceSize);
    XFER_RETURN_IF_ERROR(SendBytes(hello, sizeof hello, deadline, cancel).WithContext(where));

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
                                        "(does it expect encryption, or run an xfer older than "
                                        "plain mode 2?)");
    }
    if (std::memcmp(hello, kMagic, sizeof kMagic) != 0) {
      return Status(Code::kProtocol, where + ": peer is not an xfer endpoint");
    }
    std::memcpy(server_nonce->data(), hello + sizeof kMagic, kNonceSize);

    Mac proof, expected, answer;
    if (!ComputeMac(key, "client", *server_nonce, client_nonce, &proof) ||
        !ComputeMac(key, "server", *server_nonce, client_nonce, &expected)) {
      return Status(Code::kIoError, where + ": HMAC failed");
    }
    XFER_RETURN_IF_ERROR(
        SendBytes(proof.data(), proof.size(), deadline, cancel).WithContext(where));
    status = Receive(answer.data(), answer.size(), deadline, cancel, true, &got);
    if (!status.ok() && status.code() != Code::kNetwork) return status.WithContext(where);
    // The server hangs up instead of answering when our proof did not verify.
    if (!status.ok() || got < answer.size() ||
        CRYPTO_memcmp(answer.data(), expected.data(), kMacSize) != 0) {
      return Status(Code::kAuth, where + ": peer does not hold the ticket's secret");
    }
    return Status::Ok();
  }

  Status ServerAuth(const DerivedKey& key, const Nonce& server_nonce, Nonce* client_nonce,
                    Deadline deadline, const CancelToken* cancel) {
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
    if (std::memcmp(hello, kVersion1Magic, sizeof kVersion1Magic) == 0) {
      return Status(Code::kProtocol, where +
                                         ": peer speaks plain mode 1, which leaves the data "
                                         "unauthenticated: upgrade its xfer");
    }
    if (std::memcmp(hello, kMagic, sizeof kMagic) != 0) {
      return Status(Code::kProtocol, where + ": peer is not an xfer endpoint");
    }
    std::memcpy(client_nonce->data(), hello + sizeof kMagic, kNonceSize);
    std::memcpy(hello + sizeof kMagic, server_nonce.data(), kNonceSize);
    XFER_RETURN_IF_ERROR(SendBytes(hello, sizeof hello, deadline, cancel).WithContext(where));

    Mac proof, expected, answer;
    if (!ComputeMac(key, "client", server_nonce, *client_nonce, &expected) ||
        !ComputeMac(key, "server", server_nonce, *client_nonce, &answer)) {
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
    return SendBytes(answer.data(), answer.size(), deadline, cancel).WithContext(where);
  }

  // One record: head, body and tag in one sendmsg.
  Status SendRecord(const uint8_t* body, size_t len, Deadline deadline, const CancelToken* cancel,
                    bool yield_to_input) {
    uint8_t head[kRecordHeadSize];
    for (size_t i = 0; i < kRecordHeadSize; ++i) head[i] = static_cast<uint8_t>(len >> (8 * i));
    RecordMac::Tag tag;
    XFER_RETURN_IF_ERROR(send_mac_->Compute(send_seq_++, head, {body, len}, tag));
    iovec iov[3] = {{head, sizeof head}, {const_cast<uint8_t*>(body), len}, {tag, sizeof tag}};
    return Send(iov, 3, deadline, cancel, yield_to_input, false);
  }

  // Reads the next record and checks its tag. A body that fits in room goes straight to dst
  // (*delivered = its length); a longer one waits in record_ (*delivered = 0).
  Status ReadRecord(uint8_t* dst, size_t room, Deadline deadline, const CancelToken* cancel,
                    size_t* delivered) {
    std::string which = "record " + std::to_string(receive_seq_);
    uint8_t head[kRecordHeadSize];
    XFER_RETURN_IF_ERROR(ReadRaw(head, sizeof head, deadline, cancel));
    size_t len = 0;
    for (size_t i = 0; i < kRecordHeadSize; ++i) len |= size_t{head[i]} << (8 * i);
    if (len == 0 || len > kMaxRecord) {
      return Status(Code::kCorrupt, which + " failed authentication: its length (" +
                                        std::to_string(len) + " bytes) is out of range");
    }
    uint8_t* body = dst;
    if (len > room) {
      record_.resize(len);
      record_used_ = len;  // nothing to hand out before the tag verified
      body = record_.data();
    }
    RecordMac::Tag tag;
    XFER_RETURN_IF_ERROR(ReadRaw(body, len, deadline, cancel));
    XFER_RETURN_IF_ERROR(ReadRaw(tag, sizeof tag, deadline, cancel));
    if (!receive_mac_->Verify(receive_seq_, head, {body, len}, tag)) {
      return Status(Code::kCorrupt, which +
                                        " failed authentication: the data was changed, "
                                        "dropped, reordered or replayed on the way");
    }
    ++receive_seq_;
    *delivered = body == dst ? len : 0;
    if (body != dst) record_used_ = 0;
    return Status::Ok();
  }

  // Exactly len bytes of the stream, through the read-ahead; the end of stream is kNetwork.
  Status ReadRaw(uint8_t* p, size_t len, Deadline deadline, const CancelToken* cancel) {
    while (len > 0) {
      size_t got = std::min(len, ahead_end_ - ahead_begin_);
      if (got > 0) {
        std::memcpy(p, read_ahead_.data() + ahead_begin_, got);
        ahead_begin_ += got;
      } else if (len >= kReadAhead) {
        XFER_RETURN_IF_ERROR(Receive(p, len, deadline, cancel, false, &got));
        if (got < len) return Status(Code::kNetwork, "peer closed the connection");
      } else {
        XFER_RETURN_IF_ERROR(
            ReceiveSome(read_ahead_.data(), read_ahead_.size(), deadline, cancel, false, &got));
        if (got == 0) return Status(Code::kNetwork, "peer closed the connection");
        ahead_begin_ = 0;
        ahead_end_ = got;
        continue;
      }
      p += got;
      len -= got;
    }
    return Status::Ok();
  }

  // For the handshake: bounded by its deadline even with the socket writable (a peer that
  // trickles), and never yielding.
  Status SendBytes(const uint8_t* p, size_t len, Deadline deadline, const CancelToken* cancel) {
    iovec iov{const_cast<uint8_t*>(p), len};
    return Send(&iov, 1, deadline, cancel, false, true);
  }

  // Sends all of iov (which it advances). strict: give up once the deadline passed, even with the
  // socket writable. Messages leave the context to the caller.
  Status Send(iovec* iov, int count, Deadline deadline, const CancelToken* cancel,
              bool yield_to_input, bool strict) {
    while (count > 0) {
      if (iov->iov_len == 0) {
        ++iov;
        --count;
        continue;
      }
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = static_cast<size_t>(count);
      ssize_t n = sendmsg(socket_.fd(), &msg, MSG_NOSIGNAL);
      if (n > 0) {
        sent_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
        for (size_t left = static_cast<size_t>(n); left > 0;) {
          size_t step = std::min(left, iov->iov_len);
          iov->iov_base = static_cast<uint8_t*>(iov->iov_base) + step;
          iov->iov_len -= step;
          left -= step;
          if (iov->iov_len == 0) {
            ++iov;
            --count;
          }
        }
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
      size_t n = 0;
      Status status = ReceiveSome(p + *got, len - *got, deadline, cancel, strict, &n);
      *got += n;
      if (!status.ok() || n == 0) return status;
    }
    return Status::Ok();
  }

  // Waits for the first bytes, then takes what is there, up to len; *got = 0 at the end of
  // stream.
  Status ReceiveSome(uint8_t* p, size_t len, Deadline deadline, const CancelToken* cancel,
                     bool strict, size_t* got) {
    *got = 0;
    while (true) {
      ssize_t n = recv(socket_.fd(), p, len, 0);
      if (n >= 0) {
        received_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
        *got = static_cast<size_t>(n);
        return Status::Ok();
      }
      int err = errno;
      if (err == EINTR) continue;
      if (err != EAGAIN && err != EWOULDBLOCK) {
        return Status(Code::kNetwork, std::strerror(err));
      }
      if (strict && deadline.Expired()) return Status(Code::kTimeout, "timed out");
      XFER_RETURN_IF_ERROR(WaitFd(socket_.fd(), POLLIN, deadline, cancel, nullptr));
    }
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

  std::unique_ptr<RecordMac> send_mac_;
  std::unique_ptr<RecordMac> receive_mac_;
  uint64_t send_seq_ = 0;
  uint64_t receive_seq_ = 0;
  // Bytes received, not yet parsed: read_ahead_[ahead_begin_, ahead_end_).
  std::vector<uint8_t> read_ahead_;
  size_t ahead_begin_ = 0;
  size_t ahead_end_ = 0;
  // A verified record longer than the read that fetched it: record_[record_used_, end) is still
  // to be handed out.
  std::vector<uint8_t> record_;
  size_t record_used_ = 0;
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
