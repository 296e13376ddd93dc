// PlainStreamRewriter: what a man in the middle of a --no-encrypt transfer can do without the
// ticket's secret, for TcpProxy::Hooks::rewrite_upstream. It passes the HMAC handshake on, then
// reads the sender's stream frame by frame and lets the test change, drop, repeat or cut frames,
// recomputing every unkeyed check so that all of the receiver's XXH3s match: the checksum of each
// stored DATA frame and of each MANIFEST frame, DATA sequence numbers, and the TRAILER's byte
// count, frame count and stream digest.
//
// It speaks both plain-mode versions (docs/protocol.md §2): version 1 (magic "XFERAUTH"), whose
// frames cross in clear, and version 2, whose frames cross in MAC'd records (u32 length, body,
// 16-byte tag). Without the key it cannot make a tag, so in version 2 every record keeps its
// length and tag and only its body changes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "wire_format.h"

namespace xfer::testing {

class PlainStreamRewriter {
 public:
  enum class Action {
    kPass,    // forward the frame (as the edit left it)
    kDrop,    // leave it out
    kRepeat,  // forward it twice
    kCut,     // leave out this and every later DATA and MANIFEST frame; the TRAILER still goes,
              // rewritten to match what went
  };
  // Sees each sender-to-receiver frame; may change its header and payload in place (a version 2
  // payload keeps its length).
  using Edit = std::function<Action(FrameHeader* header, std::vector<uint8_t>* payload)>;

  explicit PlainStreamRewriter(Edit edit) : edit_(std::move(edit)) {}

  // For TcpProxy::Hooks::rewrite_upstream.
  std::vector<uint8_t> Rewrite(const uint8_t* data, size_t len);

  bool saw_records() const { return records_; }  // the stream was plain-mode version 2

 private:
  // A frame as it crossed: header and payload, and in version 2 the records that carried them.
  struct Frame {
    FrameHeader header;
    std::vector<uint8_t> payload;
    std::vector<std::vector<uint8_t>> tags;  // one per record
    std::vector<size_t> record_lens;
  };

  bool TakeFrame(Frame* frame);  // false until a whole frame arrived
  void Forward(Frame& frame, std::vector<uint8_t>* out);
  void Emit(const Frame& frame, std::vector<uint8_t>* out) const;

  Edit edit_;
  std::vector<uint8_t> in_;     // received, not yet parsed
  size_t handshake_left_ = 56;  // "XFERAUTH"-style hello (24 bytes) and proof (32 bytes)
  bool records_ = false;
  bool broken_ = false;  // the stream stopped parsing: the rest is forwarded as it comes
  bool cut_ = false;
  uint64_t data_seq_ = 0;
  uint64_t stream_bytes_ = 0;
  std::vector<std::pair<uint32_t, uint64_t>> chunks_;  // raw_len, checksum of each DATA sent
};

}  // namespace xfer::testing
