// TlsChannel: TLS 1.3 over an external PSK derived from the ticket's secret, no certificates.
//
// Both ends load the same PSK (HKDF label kTlsPskLabel, identity "xfer1") as a TLS 1.3 session
// and only accept a handshake that used it, in psk_dhe_ke mode (an X25519 or P-256 exchange on
// top, so a ticket that leaks later does not decrypt recorded transfers). A peer with another
// key fails the PSK binder check: the server sees that, the client gets its alert.
//
// I/O goes through a small BIO of our own over the non-blocking socket: it sends with
// MSG_NOSIGNAL (a library must not raise SIGPIPE in its host process) and counts wire bytes.
// Every wait is a WaitFd with the caller's deadline and cancel token. OpenSSL's error queue is
// per thread; it is cleared before each call whose result goes through SSL_get_error and
// drained into the Status after a failure, so one connection's errors never leak into the next.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>

#include "channel.h"
#include "key_derivation.h"

namespace xfer {

namespace {

constexpr char kPskIdentity[] = "xfer1";
constexpr char kCipherSuites[] = "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256";
constexpr char kGroups[] = "X25519:P-256";
constexpr unsigned char kAes128GcmSha256[] = {0x13, 0x01};  // RFC 8446 B.4
// One SSL_write call per MiB: OpenSSL then emits its 16 KiB records back to back.
constexpr size_t kMaxWriteCall = size_t{1} << 20;
// CloseWrite has no deadline parameter; a close_notify that cannot leave within this time is
// dropped (the peer then sees an end of stream without it, which it reports as an error).
constexpr auto kCloseNotifyWait = std::chrono::seconds(5);

struct OpenSslDeleter {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(SSL* p) const { SSL_free(p); }
  void operator()(BIO_METHOD* p) const { BIO_meth_free(p); }
};

// The socket as our BIO sees it.
struct Wire {
  int fd = -1;
  // Read by other threads for progress reports while the owning thread does the I/O.
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> received{0};
  bool eof = false;
  int error = 0;  // errno of the last hard failure, kept away from later libc calls
};

// One send() or recv(): EINTR retried, EAGAIN turned into a BIO retry, other errors kept.
int WireIo(BIO* bio, char* data, size_t len, size_t* done, bool write) {
  Wire* wire = static_cast<Wire*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  ssize_t n;
  do {
    n = write ? send(wire->fd, data, len, MSG_NOSIGNAL) : recv(wire->fd, data, len, 0);
  } while (n < 0 && errno == EINTR);
  if (n > 0 || (n == 0 && write)) {
    (write ? wire->sent : wire->received)
        .fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    *done = static_cast<size_t>(n);
    return 1;
  }
  if (n == 0) {
    wire->eof = true;  // reported through BIO_CTRL_EOF, so OpenSSL says "unexpected eof"
  } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
    wire->error = errno;
  } else if (write) {
    BIO_set_retry_write(bio);
  } else {
    BIO_set_retry_read(bio);
  }
  return 0;
}

int WireWrite(BIO* bio, const char* data, size_t len, size_t* written) {
  return WireIo(bio, const_cast<char*>(data), len, written, true);  // send() only reads it
}

int WireRead(BIO* bio, char* data, size_t len, size_t* read) {
  return WireIo(bio, data, len, read, false);
}

long WireCtrl(BIO* bio, int cmd, long /*num*/, void* /*ptr*/) {
  Wire* wire = static_cast<Wire*>(BIO_get_data(bio));
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;  // send() hands everything to the kernel at once
    case BIO_CTRL_EOF:
      return wire->eof ? 1 : 0;
    default:
      return 0;
  }
}

// The session OpenSSL treats as the external PSK: master key = the derived key, the cipher fixes
// the PSK's hash (SHA-256, which both offered suites share).
SSL_SESSION* NewPskSession(SSL* ssl, const DerivedKey& key) {
  const SSL_CIPHER* cipher = SSL_CIPHER_find(ssl, kAes128GcmSha256);
  SSL_SESSION* session = SSL_SESSION_new();
  if (cipher == nullptr || session == nullptr ||
      SSL_SESSION_set1_master_key(session, key.data(), key.size()) != 1 ||
      SSL_SESSION_set_cipher(session, cipher) != 1 ||
      SSL_SESSION_set_protocol_version(session, TLS1_3_VERSION) != 1) {
    SSL_SESSION_free(session);
    return nullptr;
  }
  return session;
}

// Client: offers the PSK. OpenSSL owns the returned session.
int UsePskSession(SSL* ssl, const EVP_MD* md, const unsigned char** id, size_t* id_len,
                  SSL_SESSION** session) {
  const DerivedKey* key = static_cast<const DerivedKey*>(SSL_get_app_data(ssl));
  if (key == nullptr) return 0;
  *id = nullptr;
  *id_len = 0;
  *session = nullptr;
  // Called again after a HelloRetryRequest with the chosen suite's hash: ours is SHA-256.
  if (md != nullptr && !EVP_MD_is_a(md, "SHA256")) return 1;
  *session = NewPskSession(ssl, *key);
  if (*session == nullptr) return 0;
  *id = reinterpret_cast<const unsigned char*>(kPskIdentity);
  *id_len = sizeof kPskIdentity - 1;
  return 1;
}

// Server: the PSK for our identity; any other identity gets none, and with no certificate to
// fall back on, the handshake then fails.
int FindPskSession(SSL* ssl, const unsigned char* identity, size_t identity_len,
                   SSL_SESSION** session) {
  const DerivedKey* key = static_cast<const DerivedKey*>(SSL_get_app_data(ssl));
  if (key == nullptr) return 0;
  *session = nullptr;
  if (identity_len != sizeof kPskIdentity - 1 ||
      std::memcmp(identity, kPskIdentity, identity_len) != 0) {
    return 1;
  }
  *session = NewPskSession(ssl, *key);
  return *session != nullptr ? 1 : 0;
}

// Reasons that mean "the other end holds a different key" (or is not a PSK peer at all).
bool IsAuthFailure(int reason) {
  switch (reason) {
    case SSL_R_BINDER_DOES_NOT_VERIFY:
    case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
    case SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC:
    case SSL_R_SSLV3_ALERT_BAD_RECORD_MAC:
    case SSL_R_DIGEST_CHECK_FAILED:
    case SSL_R_CERTIFICATE_VERIFY_FAILED:  // a server that offers a certificate instead
      return true;
    default:
      return false;
  }
}

class TlsChannel : public Channel {
 public:
  TlsChannel(Socket socket, ChannelRole role)
      : socket_(std::move(socket)), role_(role), peer_(PeerName(socket_.fd())) {
    wire_.fd = socket_.fd();
  }

  Status Open(const Secret& secret, Deadline deadline, const CancelToken* cancel) {
    psk_ = std::make_unique<DerivedKey>();
    XFER_RETURN_IF_ERROR(DeriveKey(secret, kTlsPskLabel, psk_.get()));
    Status status = Setup();
    if (status.ok()) status = Handshake(deadline, cancel);
    if (status.ok()) status = CheckNegotiated();
    // The PSK lives on only inside OpenSSL's session copy, which it wipes when freeing it.
    if (ssl_ != nullptr) SSL_set_app_data(ssl_.get(), nullptr);
    psk_.reset();
    ERR_clear_error();
    return status;
  }

  Status WriteAll(const void* data, size_t len, Deadline deadline, const CancelToken* cancel,
                  bool yield_to_input) override {
    if (write_broken_ || failed_) {
      return Status(Code::kNetwork, "sending to " + peer_ + ": stream already failed");
    }
    const uint8_t* p = static_cast<const uint8_t*>(data);
    while (len > 0) {
      size_t chunk = std::min(len, kMaxWriteCall);
      size_t written = 0;
      ERR_clear_error();
      int rc = SSL_write_ex(ssl_.get(), p, chunk, &written);
      if (rc == 1) {
        p += written;
        len -= written;
        continue;
      }
      // From here OpenSSL may hold part of a record and retries must repeat this exact call;
      // giving up leaves the stream cut mid-record (see write_broken_).
      int error = SSL_get_error(ssl_.get(), rc);
      short events = 0;
      Status status;
      if (yield_to_input && (SSL_has_pending(ssl_.get()) || (!IsWant(error) && InputPending()))) {
        // A peer that reports an error and hangs up makes our write fail; its message is still
        // there to read.
        ERR_clear_error();
        status = PeerSpoke();
      } else {
        status = WantedEvents(error, "sending to", &events);
      }
      if (status.ok()) {
        if (yield_to_input) events |= POLLIN;
        short revents = 0;
        status = WaitFd(socket_.fd(), events, deadline, cancel, &revents);
        if (!status.ok()) {
          status = status.WithContext("sending to " + peer_);
        } else if (yield_to_input && (revents & POLLIN)) {
          status = PeerSpoke();
        }
      }
      if (!status.ok()) {
        write_broken_ = true;
        return status;
      }
    }
    return Status::Ok();
  }

  Status ReadExact(void* data, size_t len, Deadline deadline, const CancelToken* cancel) override {
    if (failed_) {
      return Status(Code::kNetwork, "receiving from " + peer_ + ": stream already failed");
    }
    uint8_t* p = static_cast<uint8_t*>(data);
    while (len > 0) {
      size_t got = 0;
      ERR_clear_error();
      int rc = SSL_read_ex(ssl_.get(), p, len, &got);
      if (rc == 1) {
        p += got;
        len -= got;
        continue;
      }
      short events = 0;
      XFER_RETURN_IF_ERROR(WantedEvents(SSL_get_error(ssl_.get(), rc), "receiving from", &events));
      Status status = WaitFd(socket_.fd(), events, deadline, cancel, nullptr);
      if (!status.ok()) return status.WithContext("receiving from " + peer_);
    }
    return Status::Ok();
  }

  bool InputPending() override {
    // Read-ahead keeps whole records inside OpenSSL, where poll() cannot see them.
    if (SSL_has_pending(ssl_.get())) return true;
    pollfd pfd{socket_.fd(), POLLIN, 0};
    return poll(&pfd, 1, 0) > 0 && pfd.revents != 0;
  }

  void CloseWrite() override {
    if (write_closed_) return;
    write_closed_ = true;
    // A close_notify after a failed write would make a cut stream look complete to the peer.
    if (!write_broken_ && !failed_) {
      Deadline deadline = Deadline::After(kCloseNotifyWait);
      for (;;) {
        ERR_clear_error();
        int rc = SSL_shutdown(ssl_.get());  // 0: sent, the peer's not seen yet; we don't wait
        if (rc >= 0 || SSL_get_error(ssl_.get(), rc) != SSL_ERROR_WANT_WRITE) break;
        if (!WaitFd(socket_.fd(), POLLOUT, deadline, nullptr, nullptr).ok()) break;
      }
      ERR_clear_error();
    }
    (void)shutdown(socket_.fd(), SHUT_WR);
  }

  uint64_t BytesSent() const override { return wire_.sent.load(std::memory_order_relaxed); }
  uint64_t BytesReceived() const override { return wire_.received.load(std::memory_order_relaxed); }
  std::string Describe() const override { return description_; }

 private:
  // A context per connection: cheap next to a transfer, and no state shared between threads.
  Status Setup() {
    std::unique_ptr<SSL_CTX, OpenSslDeleter> ctx(SSL_CTX_new(TLS_method()));
    method_.reset(BIO_meth_new(BIO_TYPE_SOURCE_SINK, "xfer socket"));
    if (ctx == nullptr || method_ == nullptr ||
        SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_ciphersuites(ctx.get(), kCipherSuites) != 1 ||
        SSL_CTX_set1_groups_list(ctx.get(), kGroups) != 1 ||
        BIO_meth_set_write_ex(method_.get(), WireWrite) != 1 ||
        BIO_meth_set_read_ex(method_.get(), WireRead) != 1 ||
        BIO_meth_set_ctrl(method_.get(), WireCtrl) != 1) {
      return SetupFailed();
    }
    // No SSL_OP_ALLOW_NO_DHE_KEX: a PSK-only (psk_ke) handshake is refused.
    SSL_CTX_set_options(ctx.get(), SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
                                       SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    ssl_.reset(SSL_new(ctx.get()));  // holds its own reference to ctx
    if (ssl_ == nullptr) return SetupFailed();
    BIO* bio = BIO_new(method_.get());
    if (bio == nullptr) return SetupFailed();
    BIO_set_data(bio, &wire_);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl_.get(), bio, bio);
    SSL_set_app_data(ssl_.get(), psk_.get());
    // One recv() per record instead of two (header, then body). A larger read buffer measured
    // no faster here.
    SSL_set_read_ahead(ssl_.get(), 1);
    if (role_ == ChannelRole::kClient) {
      SSL_set_psk_use_session_callback(ssl_.get(), UsePskSession);
      // No trust store is loaded, so a server that answers with a certificate fails here.
      SSL_set_verify(ssl_.get(), SSL_VERIFY_PEER, nullptr);
      SSL_set_connect_state(ssl_.get());
    } else {
      SSL_set_psk_find_session_callback(ssl_.get(), FindPskSession);
      SSL_set_num_tickets(ssl_.get(), 0);  // every connection authenticates afresh
      SSL_set_accept_state(ssl_.get());
    }
    return Status::Ok();
  }

  Status SetupFailed() {
    ERR_clear_error();
    return Status(Code::kIoError,
                  "setting up TLS for " + peer_ + ": OpenSSL initialization failed");
  }

  Status Handshake(Deadline deadline, const CancelToken* cancel) {
    std::string where = "TLS handshake with " + peer_ + " failed";
    for (;;) {
      ERR_clear_error();
      int rc = SSL_do_handshake(ssl_.get());
      if (rc == 1) return Status::Ok();
      int error = SSL_get_error(ssl_.get(), rc);
      if (!IsWant(error)) return Failure(error, where, true);
      short events = error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
      // Checked here too, so a peer trickling bytes cannot stretch the handshake past it.
      if (deadline.Expired()) return Status(Code::kTimeout, where + ": timed out");
      Status status = WaitFd(socket_.fd(), events, deadline, cancel, nullptr);
      if (!status.ok()) return status.WithContext(where);
    }
  }

  // Turns a failed SSL call into a Status, consuming this thread's OpenSSL error queue.
  Status Failure(int error, const std::string& where, bool in_handshake) {
    int reason = 0;  // the first SSL-library reason: the root cause
    const char* text = nullptr;
    bool auth = false;
    for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
      if (ERR_GET_LIB(e) != ERR_LIB_SSL) continue;
      if (reason == 0) {
        reason = ERR_GET_REASON(e);
        text = ERR_reason_error_string(e);
      }
      auth = auth || IsAuthFailure(ERR_GET_REASON(e));
    }
    std::string tls_error = std::string("TLS error: ") + (text != nullptr ? text : "unknown");
    int err = wire_.error;
    bool reset = err == ECONNRESET || err == EPIPE;
    bool hung_up = reason == SSL_R_UNEXPECTED_EOF_WHILE_READING ||
                   (error == SSL_ERROR_SYSCALL && (err == 0 || reset));
    if (!in_handshake) {
      // The peer's close_notify ends only its direction; we may still write (TLS 1.3 half-close).
      if (error == SSL_ERROR_ZERO_RETURN)
        return Status(Code::kNetwork, where + ": peer closed the connection");
      failed_ = true;  // OpenSSL forbids further I/O after the errors below
      if (err != 0) return Status(Code::kNetwork, where + ": " + std::strerror(err));
      if (hung_up)
        return Status(Code::kNetwork, where + ": connection closed without close_notify");
      // A record that fails authentication was damaged or forged on the way.
      if (auth) {
        return Status(Code::kCorrupt, where + ": a TLS record failed authentication (" +
                                          (text != nullptr ? text : "bad record") +
                                          "): the data was corrupted or altered in transit");
      }
      return Status(Code::kProtocol, where + ": " + tls_error);
    }
    failed_ = true;
    // An OpenSSL server answers a PSK binder that does not verify with illegal_parameter; our
    // fixed configuration leaves it no other reason to send that alert.
    if (auth || (role_ == ChannelRole::kClient && reason == SSL_R_SSLV3_ALERT_ILLEGAL_PARAMETER)) {
      return Status(Code::kAuth, where + ": peer does not hold the ticket's secret");
    }
    if (err != 0 && !reset) return Status(Code::kNetwork, where + ": " + std::strerror(err));
    // A peer that hangs up mid-handshake rejected us without saying why. To a client that is
    // most likely a receiver busy with another sender or a flood, so it is kNetwork, which the
    // sender tries again; a receiver without encryption answers with an alert instead.
    if (hung_up || error == SSL_ERROR_ZERO_RETURN) {
      return Status(role_ == ChannelRole::kClient ? Code::kNetwork : Code::kProtocol,
                    where +
                        ": peer closed the connection before authenticating (does it hold the "
                        "same ticket, with encryption on?)");
    }
    if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_HTTP_REQUEST ||
        reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
        reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION) {  // how a plain xfer server says no
      // OpenSSL hangs up on a peer that does not speak TLS without a word, which a plain xfer
      // client would take for a busy receiver and try again: an alert makes it a definite no.
      if (role_ == ChannelRole::kServer) {
        (void)send(socket_.fd(), kTlsProtocolVersionAlert, sizeof kTlsProtocolVersionAlert,
                   MSG_NOSIGNAL);
      }
      return Status(Code::kProtocol,
                    where + ": peer does not speak TLS (does it run without encryption?)");
    }
    return Status(Code::kProtocol, where + ": " + tls_error);
  }

  // Belt and braces over the configuration: the session must come from our PSK, with an (EC)DHE
  // exchange on top.
  Status CheckNegotiated() {
    std::string where = "TLS handshake with " + peer_ + " failed";
    if (SSL_version(ssl_.get()) != TLS1_3_VERSION || !SSL_session_reused(ssl_.get())) {
      failed_ = true;
      return Status(Code::kAuth, where + ": peer did not authenticate with the ticket's secret");
    }
    int group = SSL_get_negotiated_group(ssl_.get());
    if (group == NID_undef) {
      failed_ = true;
      return Status(Code::kProtocol, where + ": no key exchange (forward secrecy) negotiated");
    }
    const char* group_name = OBJ_nid2sn(group);
    description_ = std::string(SSL_get_version(ssl_.get())) + " " +
                   SSL_CIPHER_get_name(SSL_get_current_cipher(ssl_.get())) + " " +
                   (group_name != nullptr ? group_name : "unknown-group");
    return Status::Ok();
  }

  static bool IsWant(int error) {
    return error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE;
  }

  // The socket event a failed SSL_read/SSL_write waits for, or why it failed.
  Status WantedEvents(int error, const char* verb, short* events) {
    if (!IsWant(error)) return Failure(error, std::string(verb) + " " + peer_, false);
    *events = error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
    return Status::Ok();
  }

  Status PeerSpoke() const {
    return Status(Code::kPeerFailed,
                  "sending to " + peer_ + ": peer sent data while we waited to send");
  }

  Socket socket_;
  ChannelRole role_;
  std::string peer_;
  std::string description_;
  Wire wire_;
  std::unique_ptr<DerivedKey> psk_;
  // Declared before ssl_ so it is destroyed after it: the BIO inside ssl_ uses the method.
  std::unique_ptr<BIO_METHOD, OpenSslDeleter> method_;
  std::unique_ptr<SSL, OpenSslDeleter> ssl_;
  // A WriteAll gave up midway: OpenSSL may hold part of a record, the peer has part of a
  // message. Reading still works (to hear why the peer stopped); writing does not.
  bool write_broken_ = false;
  bool failed_ = false;  // a fatal TLS or socket error: no more I/O at all
  bool write_closed_ = false;
};

}  // namespace

Status OpenTlsChannel(Socket socket, const Secret& secret, ChannelRole role, Deadline deadline,
                      const CancelToken* cancel, std::unique_ptr<Channel>* out) {
  auto channel = std::make_unique<TlsChannel>(std::move(socket), role);
  XFER_RETURN_IF_ERROR(channel->Open(secret, deadline, cancel));
  *out = std::move(channel);
  return Status::Ok();
}

}  // namespace xfer
