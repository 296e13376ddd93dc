// What libxfer tells its caller while a transfer runs (Progress) and when it ends (Report).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace xfer {

struct Progress {
  uint64_t total_bytes = 0;  // file content announced by the sender
  uint64_t done_bytes = 0;   // file content read (sender) or written (receiver) so far
  uint64_t wire_bytes = 0;   // bytes that crossed the socket so far
  uint64_t entries_done = 0;
  double seconds = 0;
};

// Called from a transfer thread about once per progress interval; keep it quick. A receiver
// also reports once as soon as it accepted its sender (done_bytes 0).
using ProgressCallback = std::function<void(const Progress&)>;
// kWarning: something an operator should see (a rejected connection). kInfo: detail for verbose
// output (who connected, the cipher in use).
enum class LogLevel { kInfo, kWarning };
// One human-readable line per event worth telling.
using LogCallback = std::function<void(LogLevel level, std::string_view line)>;

// How a receiver this side streamed to fared: a sender's destinations, a receiver's forward.
struct PeerOutcome {
  std::string host;
  bool ok = false;
  std::string error;  // why it failed; empty when ok
};

struct Report {
  uint64_t entries = 0;        // every entry (directories, links, ...)
  uint64_t files = 0;          // regular files
  uint64_t content_bytes = 0;  // file content
  uint64_t stream_bytes = 0;   // the raw pax stream (headers included)
  uint64_t wire_bytes = 0;     // bytes that crossed the socket, both directions
  double seconds = 0;
  int threads = 0;            // (de)compression threads used
  std::string stream_digest;  // XXH3-128 of the stream, 32 hex digits
  // Resumed: files (whole or a prefix) the receiver held already, and their bytes, not sent.
  uint64_t resumed_files = 0;
  uint64_t resumed_bytes = 0;
  std::vector<PeerOutcome> peers;  // the receivers streamed to, when there were any
  // Why this end failed, for a report that is still worth reading: a chain receiver whose own
  // copy failed tells how its forwarding went. Empty on success.
  std::string error;

  // One JSON object on one line: files, bytes, wire_bytes, ratio, seconds, throughput, threads,
  // digest, the peers' outcomes when there are any, and the error when there is one.
  std::string ToJson() const;
};

// `text` as a JSON string literal, quotes included; bytes that are not printable ASCII become
// \u00XX escapes of the byte, so any file name fits.
std::string JsonString(std::string_view text);

}  // namespace xfer
