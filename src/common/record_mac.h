// RecordMac: the tag plain mode puts on every record (plain_channel.cc, docs/protocol.md §2).
//
// It is ChaCha20-Poly1305 (RFC 8439) with an empty plaintext: the record's body and then its
// length field are the additional data (in that order: OpenSSL's Poly1305 runs at half speed
// over data that starts 4 bytes into a 16-byte block, 7.4 against 14.8 GB/s here), the 96-bit
// nonce is 4 zero bytes then the record's sequence number
// (u64, little-endian). Each direction of a connection has its own key, so a nonce never repeats
// under a key. Poly1305 over the data is the cost (OpenSSL: ~15 GB/s per core here, against
// ~10 GB/s for GMAC and ~2 GB/s for HMAC-SHA256; docs/protocol.md §2), and ChaCha20 makes
// the one-time Poly1305 key of each record as the AEAD does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "key_derivation.h"
#include "xfer/status.h"

namespace xfer {

class RecordMac {
 public:
  static constexpr size_t kTagSize = 16;
  using Tag = uint8_t[kTagSize];

  // Keeps the key schedule of key; the key itself may go away afterwards.
  static Status Create(const DerivedKey& key, std::unique_ptr<RecordMac>* out);
  ~RecordMac();
  RecordMac(const RecordMac&) = delete;
  RecordMac& operator=(const RecordMac&) = delete;

  // The tag of record seq: over body, then head (passed apart so neither is copied).
  Status Compute(uint64_t seq, std::span<const uint8_t> head, std::span<const uint8_t> body,
                 Tag tag);
  // True when tag is record seq's (constant-time compare).
  bool Verify(uint64_t seq, std::span<const uint8_t> head, std::span<const uint8_t> body,
              const Tag tag);

 private:
  struct Context;
  explicit RecordMac(std::unique_ptr<Context> context);
  std::unique_ptr<Context> context_;
};

}  // namespace xfer
