// Record lists on the wire: the sender's MANIFEST and the receiver's HELD offers travel as
// numbered, checksummed payload frames that may split a record anywhere (docs/protocol.md).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "channel.h"
#include "deadline.h"
#include "held_file.h"
#include "wire_format.h"
#include "xfer/cancel.h"
#include "xfer/status.h"

namespace xfer {

// Cuts encoded records into frames of one type of at most frame_size payload bytes: seq 0, 1,
// ..., raw_len = payload_len, checksum XXH3-64 of the payload.
class RecordFramer {
 public:
  using Emit = std::function<Status(const FrameHeader& header, const uint8_t* payload)>;

  RecordFramer(FrameType type, size_t frame_size, Emit emit)
      : type_(type), frame_size_(frame_size), emit_(std::move(emit)) {}

  // Adds one encoded record; emits every frame it fills.
  Status Add(std::string_view encoded);
  // Emits what is left.
  Status Flush();

 private:
  Status EmitFrame(std::string_view payload);

  FrameType type_;
  size_t frame_size_;
  Emit emit_;
  std::string pending_;
  uint64_t seq_ = 0;
};

// The receiver's answer to a HELLO that asked to resume: HELD frames (its offers) until ACCEPT.
// An ERROR becomes Code::kPeerFailed "<role>: ..."; more than max_records offers (the files the
// sender announced), an offer for a path named twice, a frame out of order or with a wrong
// checksum is a protocol error.
Status ReadOffersAndAccept(Channel* channel, std::string_view role, uint64_t max_records,
                           Deadline deadline, const CancelToken* cancel, HeldFiles* offers);

// Sends every held file as HELD frames of at most frame_size bytes, then ACCEPT.
Status WriteOffersAndAccept(Channel* channel, const HeldFiles& offers, size_t frame_size,
                            Deadline deadline, const CancelToken* cancel);

}  // namespace xfer
