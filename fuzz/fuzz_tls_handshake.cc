// Fuzz target: the receiver's side of the TLS 1.3 external-PSK handshake, fed attacker bytes as
// the client's flight (server_handshake.h). The seed corpus holds a real ClientHello for the
// harness's fixed secret, so the fuzzer starts past the PSK binder check.
#include <cstddef>
#include <cstdint>

#include "server_handshake.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  xfer::RunServerHandshake(data, size, /*encrypt=*/true);
  return 0;
}
