// CheckStreamDigest: did a target get the stream the sender sent? Both programs print the
// stream's XXH3-128 in their result line; a target whose digest differs from the sender's failed,
// whatever it says of itself (a tampered or buggy link, or a receiver that lies).
#pragma once

#include <string_view>

#include "xfer/status.h"

namespace xfer::orchestrator {

// Ok when the digests agree, or when the sender reported none (its own failure then says why).
Status CheckStreamDigest(std::string_view sender_digest, std::string_view target_digest);

}  // namespace xfer::orchestrator
