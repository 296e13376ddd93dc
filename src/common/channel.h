// Channel: the authenticated byte stream between a sender and a receiver.
//
// Both ends prove they hold the ticket's secret before anything else is exchanged. With
// encryption (the default) the stream is TLS 1.3 on an external PSK derived from the secret
// (psk_dhe_ke, so past transfers stay secret even if the ticket leaks later). Without it, a HMAC
// challenge-response over the secret authenticates both ends and the bytes then flow in clear.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

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

class Channel {
 public:
  virtual ~Channel() = default;

  // Writes all len bytes. With yield_to_input, stops early and returns Code::kPeerFailed when the
  // peer sends something while the write waits for buffer space (the sender uses this to hear a
  // receiver's error instead of blocking on a peer that no longer reads).
  virtual Status WriteAll(const void* data, size_t len, Deadline deadline,
                          const CancelToken* cancel, bool yield_to_input = false) = 0;
  // Reads exactly len bytes. A clean or unclean end of stream before that is Code::kNetwork.
  virtual Status ReadExact(void* data, size_t len, Deadline deadline,
                           const CancelToken* cancel) = 0;
  // True when a read would find bytes (or the end of stream) without waiting.
  virtual bool InputPending() = 0;
  // Ends our direction of the stream (TLS close_notify, then shutdown(SHUT_WR)).
  virtual void CloseWrite() = 0;

  // Bytes that crossed the socket (TLS records included), for "bytes on the wire".
  virtual uint64_t BytesSent() const = 0;
  virtual uint64_t BytesReceived() const = 0;
};

// Client side: authenticates over an already connected socket.
Status OpenClientChannel(Socket socket, const ChannelParams& params, Deadline deadline,
                         const CancelToken* cancel, std::unique_ptr<Channel>* out);

// Server side: authenticates the peer on an accepted socket. A peer without the secret gets
// Code::kAuth (the message names the failure, never the secret).
Status OpenServerChannel(Socket socket, const ChannelParams& params, Deadline deadline,
                         const CancelToken* cancel, std::unique_ptr<Channel>* out);

}  // namespace xfer
