// Fuzz target: the receiver's side of the plain (HMAC challenge-response) handshake, fed attacker
// bytes as the client's messages (server_handshake.h).
#include <cstddef>
#include <cstdint>

#include "server_handshake.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  xfer::RunServerHandshake(data, size, /*encrypt=*/false);
  return 0;
}
