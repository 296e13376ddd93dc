// Ticket: what a receiver hands its sender (through ssh's stdin, never argv) so that the sender,
// and only it, can connect: `xfer1:PORT:SECRET[:FLAG...]`.
//
// SECRET is 32 bytes from the OS CSPRNG in base64url without padding (43 characters). The only
// flag so far is `plain`: the receiver chose --no-encrypt. Every character is shell-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "xfer/status.h"

namespace xfer {

struct Ticket {
  uint16_t port = 0;
  std::array<uint8_t, 32> secret{};
  bool encrypt = true;

  // A ticket with a fresh random secret.
  static Status Generate(uint16_t port, bool encrypt, Ticket* out);
  // Parses one ticket line (a trailing newline is allowed). Errors never quote the input, since it
  // holds the secret.
  static Status Parse(std::string_view text, Ticket* out);
  std::string Format() const;
};

}  // namespace xfer
