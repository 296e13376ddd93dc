// The version of the wire protocol: a sender and a receiver must speak the same one.
#pragma once

#include <cstdint>

namespace xfer {

inline constexpr uint16_t kProtocolVersion = 2;

}  // namespace xfer
