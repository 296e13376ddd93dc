// Reading and writing protocol frames (wire_format.h) over a Channel.
#pragma once

#include <string>
#include <string_view>

#include "buffer.h"
#include "channel.h"
#include "wire_format.h"

namespace xfer {

// Writes header then payload (header.payload_len bytes).
Status WriteFrame(Channel* channel, const FrameHeader& header, const uint8_t* payload,
                  Deadline deadline, const CancelToken* cancel, bool yield_to_input = false);

// A control frame (HELLO, ACCEPT, ERROR, TRAILER, RESULT) with its payload.
Status WriteControl(Channel* channel, FrameType type, std::string_view payload, Deadline deadline,
                    const CancelToken* cancel);

// Reads one frame; the payload (already bounded by DecodeFrameHeader) goes into *payload.
Status ReadFrame(Channel* channel, FrameHeader* header, Buffer* payload, Deadline deadline,
                 const CancelToken* cancel);

// Reads one control frame of the expected type. An ERROR frame from the peer becomes
// Code::kPeerFailed with "<peer_role>: <its message>"; any other type is a protocol error.
Status ReadControl(Channel* channel, FrameType expected, std::string_view peer_role,
                   std::string* payload, Deadline deadline, const CancelToken* cancel);

// Turns an ERROR frame's payload into a Status, keeping only printable characters.
Status PeerError(std::string_view peer_role, std::string_view payload);

// Best effort: tells the peer why we stop (short deadline), then ends our direction. Nothing is
// sent when the failure came from the peer (kPeerFailed: it knows) or the connection (kNetwork:
// it is gone).
void SendErrorAndClose(Channel* channel, const Status& status);

}  // namespace xfer
