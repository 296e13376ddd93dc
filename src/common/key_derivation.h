// Key derivation: the keys each channel mode uses, derived from the ticket's 32-byte secret with
// HKDF-SHA256 (RFC 5869), one label per use, so no key serves two purposes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "xfer/status.h"

namespace xfer {

// HKDF "info" labels. They are part of the wire protocol: changing one breaks compatibility.
inline constexpr std::string_view kTlsPskLabel = "xfer1 tls13 external psk";
inline constexpr std::string_view kAuthKeyLabel = "xfer1 plain hmac auth";
// Plain mode's record MAC keys, one per direction, each bound to the connection by both nonces.
inline constexpr std::string_view kClientMacLabel = "xfer1 plain mac client to server";
inline constexpr std::string_view kServerMacLabel = "xfer1 plain mac server to client";

// A 32-byte key that wipes itself (OPENSSL_cleanse) when it goes away.
class DerivedKey {
 public:
  static constexpr size_t kSize = 32;

  DerivedKey() = default;
  ~DerivedKey();
  DerivedKey(const DerivedKey&) = delete;
  DerivedKey& operator=(const DerivedKey&) = delete;

  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  static constexpr size_t size() { return kSize; }

 private:
  std::array<uint8_t, kSize> bytes_{};
};

// HKDF-SHA256 of secret into *out: extract with no salt (RFC 5869: HashLen zero bytes), then
// expand with info = label || context (context: what binds the key to one connection, if any).
Status DeriveKey(std::span<const uint8_t> secret, std::string_view label, DerivedKey* out,
                 std::span<const uint8_t> context = {});

}  // namespace xfer
