// FirstFlight: whether a new connection's first message has arrived whole, judged by peeking at
// it (nothing is consumed: the handshake then reads it as it was sent). A real sender sends its
// whole first message at once — a TLS ClientHello record, or the 24-byte plain hello — so a
// connection that sent part of one and stalled is a crowd's, and never needs a handshake slot.
#pragma once

namespace xfer {

enum class FirstFlight {
  kWhole,    // a whole TLS record (content type handshake) or a whole plain hello is there
  kPartial,  // not yet: SO_RCVLOWAT now makes poll() wait until the rest can be there
  kForeign,  // neither TLS nor xfer's plain hello, or the connection ended first
};

// Looks at what the connection on fd received so far.
FirstFlight PeekFirstFlight(int fd);

// Puts SO_RCVLOWAT back to 1, before the handshake reads the socket.
void ResetLowWater(int fd);

}  // namespace xfer
