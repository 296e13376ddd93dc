// Fuzz target: ManifestParser, fed the way the receiver feeds it: one MANIFEST payload at a time,
// with records split anywhere between payloads.
//
// Input: two bytes choosing the split (payload sizes alternate between them, 1..256 bytes), then
// the manifest bytes. Properties: the split does not change what is parsed (same records, same
// Finish result as one whole payload), and the parsed records re-encode to the input's prefix.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "wire_format.h"

namespace {

struct Parsed {
  bool fed_ok = true;
  bool finished_ok = false;
  xfer::Manifest records;
};

Parsed Parse(std::string_view bytes, size_t split_a, size_t split_b) {
  Parsed parsed;
  xfer::ManifestParser parser;
  bool use_a = true;
  while (!bytes.empty()) {
    size_t n = std::min(bytes.size(), use_a ? split_a : split_b);
    use_a = !use_a;
    if (!parser.Feed(bytes.substr(0, n), &parsed.records).ok()) {
      parsed.fed_ok = false;
      return parsed;
    }
    bytes.remove_prefix(n);
  }
  parsed.finished_ok = parser.Finish().ok();
  return parsed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  size_t split_a = size_t{data[0]} + 1;
  size_t split_b = size_t{data[1]} + 1;
  std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);

  Parsed split = Parse(bytes, split_a, split_b);
  Parsed whole = Parse(bytes, bytes.size() + 1, bytes.size() + 1);
  // A failing Feed stops the receiver at once, so only the verdict has to agree then: a chunked
  // parse may have consumed fewer records before it saw the bad length.
  if (split.fed_ok != whole.fed_ok) std::abort();
  if (!whole.fed_ok) return 0;
  if (split.finished_ok != whole.finished_ok || split.records != whole.records) std::abort();

  std::string encoded;
  for (const xfer::ManifestRecord& record : whole.records) {
    xfer::AppendManifestRecord(record, &encoded);
  }
  if (bytes.substr(0, encoded.size()) != encoded) std::abort();
  if (whole.finished_ok != (encoded.size() == bytes.size())) std::abort();
  return 0;
}
