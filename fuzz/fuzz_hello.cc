// Fuzz target: DecodeHello, the sender's first frame payload (counts and top-level names).
//
// Properties: every accepted top-level name is safe to join under the destination, and an
// accepted HELLO re-encodes to the same bytes (no trailing bytes, reserved fields zero).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "wire_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view payload(reinterpret_cast<const char*>(data), size);
  xfer::Hello hello;
  if (!xfer::DecodeHello(payload, &hello).ok()) return 0;
  for (const std::string& name : hello.top_names) {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
        name.find('\0') != std::string::npos) {
      std::abort();
    }
  }
  if (xfer::EncodeHello(hello) != payload) std::abort();
  return 0;
}
