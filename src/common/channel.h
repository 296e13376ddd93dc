// Channel: the authenticated byte stream between a sender and a receiver.
//
// Both ends prove they hold the ticket's secret before anything else is exchanged. With
// encryption (the default) the stream is TLS 1.3 on an external PSK derived from the secret
// (psk_dhe_ke, so past transfers stay secret even if the ticket leaks later). Without it, a HMAC
// challenge-response over the secret authenticates both ends and the bytes then flow in clear,
// in records that each carry a MAC keyed from the secret and the connection: readable on the
// way, but not changeable, droppable, reorderable or replayable unnoticed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "deadline.h"
#include "socket.h"
#include "xfer/cancel.h"
#include "xfer/status.h"

namespace xfer {

using Secret = std::array<uint8_t, 32>;

struct ChannelParams {
  Secret secret{};
  bool encrypt = true;
};

// Used by one thread at a time.
class Channel {
 public:
  virtual ~Channel() = default;

  // Writes all len bytes. With yield_to_input, stops early and returns Code::kPeerFailed when the
  // peer sends something while the write waits for buffer space (the sender uses this to hear a
  // receiver's error instead of blocking on a peer that no longer reads). A WriteAll that fails
  // may have sent part of data, so every later WriteAll fails too; reads still work.
  virtual Status WriteAll(const void* data, size_t len, Deadline deadline,
                          const CancelToken* cancel, bool yield_to_input = false) = 0;
  // Reads exactly len bytes. A clean or unclean end of stream before that is Code::kNetwork.
  virtual Status ReadExact(void* data, size_t len, Deadline deadline,
                           const CancelToken* cancel) = 0;
  // True when a read would find bytes (or the end of stream) without waiting.
  virtual bool InputPending() = 0;
  // Ends our direction of the stream (TLS close_notify, then shutdown(SHUT_WR)). Waits at most a
  // few seconds for buffer space for the close_notify; skips it after a failed write, so a cut
  // stream never looks complete to the peer.
  virtual void CloseWrite() = 0;

  // Bytes that crossed the socket (TLS records included), for "bytes on the wire". Safe to call
  // from any thread.
  virtual uint64_t BytesSent() const = 0;
  virtual uint64_t BytesReceived() const = 0;

  // What protects the stream, for verbose logs: "TLSv1.3 TLS_AES_128_GCM_SHA256 X25519" or
  // "plain (HMAC-SHA256 authenticated, every record MAC'd with Poly1305, not encrypted)".
  virtual std::string Describe() const = 0;
};

// Client side: authenticates over an already connected socket.
Status OpenClientChannel(Socket socket, const ChannelParams& params, Deadline deadline,
                         const CancelToken* cancel, std::unique_ptr<Channel>* out);

// Server side: authenticates the peer on an accepted socket. A peer without the secret gets
// Code::kAuth (the message names the failure, never the secret).
Status OpenServerChannel(Socket socket, const ChannelParams& params, Deadline deadline,
                         const CancelToken* cancel, std::unique_ptr<Channel>* out);

// The two implementations behind OpenClientChannel / OpenServerChannel (chosen by
// params.encrypt): TLS 1.3 on an external PSK (tls_channel.cc), and HMAC challenge-response
// followed by clear but MAC'd records (plain_channel.cc).
enum class ChannelRole { kClient, kServer };

// How either server turns away a client of the other mode, so that the client hears a definite
// no (and a sender does not try again) rather than a hang-up: a fatal TLS protocol_version alert
// record (RFC 8446 6.2 and B.2: level 2, description 70).
inline constexpr uint8_t kTlsProtocolVersionAlert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46};
Status OpenTlsChannel(Socket socket, const Secret& secret, ChannelRole role, Deadline deadline,
                      const CancelToken* cancel, std::unique_ptr<Channel>* out);
Status OpenPlainChannel(Socket socket, const Secret& secret, ChannelRole role, Deadline deadline,
                        const CancelToken* cancel, std::unique_ptr<Channel>* out);

}  // namespace xfer
