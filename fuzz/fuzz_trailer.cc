// Fuzz target: DecodeTrailer, the sender's totals at the end of the stream.
//
// Property: an accepted TRAILER re-encodes to the same bytes (fixed size, nothing trailing).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "wire_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view payload(reinterpret_cast<const char*>(data), size);
  xfer::Trailer trailer;
  if (!xfer::DecodeTrailer(payload, &trailer).ok()) return 0;
  if (xfer::EncodeTrailer(trailer) != payload) std::abort();
  return 0;
}
