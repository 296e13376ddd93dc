#include "first_flight.h"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

namespace xfer {

namespace {

constexpr uint8_t kTlsHandshakeRecord = 0x16;
constexpr size_t kTlsRecordHeader = 5;
constexpr size_t kTlsMaxRecord = 16384 + 256;  // TLSPlaintext, with room for any expansion
constexpr uint8_t kPlainMagicStart = 'X';      // "XFERAUT2" (plain_channel.cc)
constexpr size_t kPlainHello = 24;

// Asks poll() to wake only once `bytes` are queued (or the connection ends).
FirstFlight WaitFor(int fd, size_t bytes) {
  int low_water = static_cast<int>(bytes);
  setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &low_water, sizeof low_water);
  return FirstFlight::kPartial;
}

}  // namespace

FirstFlight PeekFirstFlight(int fd) {
  uint8_t head[kTlsRecordHeader];
  ssize_t got = recv(fd, head, sizeof head, MSG_PEEK | MSG_DONTWAIT);
  if (got <= 0) return FirstFlight::kForeign;  // ended (or failed) before a first byte
  int queued = 0;
  if (ioctl(fd, FIONREAD, &queued) != 0) return FirstFlight::kForeign;
  size_t need = 0;
  if (head[0] == kTlsHandshakeRecord) {
    if (static_cast<size_t>(got) < kTlsRecordHeader) return WaitFor(fd, kTlsRecordHeader);
    size_t length = size_t{head[3]} << 8 | head[4];
    if (head[1] != 0x03 || length == 0 || length > kTlsMaxRecord) return FirstFlight::kForeign;
    need = kTlsRecordHeader + length;
  } else if (head[0] == kPlainMagicStart) {
    need = kPlainHello;
  } else {
    return FirstFlight::kForeign;
  }
  if (static_cast<size_t>(queued) < need) return WaitFor(fd, need);
  return FirstFlight::kWhole;
}

void ResetLowWater(int fd) {
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
}

}  // namespace xfer
