#include "xfer/report.h"

#include <cstdio>

namespace xfer {

std::string Report::ToJson() const {
  double ratio = wire_bytes > 0 ? static_cast<double>(stream_bytes) / wire_bytes : 0;
  double throughput = seconds > 0 ? content_bytes / seconds / 1e6 : 0;
  char numbers[512];
  std::snprintf(numbers, sizeof numbers,
                "{\"entries\":%llu,\"files\":%llu,\"bytes\":%llu,\"stream_bytes\":%llu,"
                "\"wire_bytes\":%llu,\"ratio\":%.3f,\"seconds\":%.3f,\"throughput_mb_s\":%.1f,"
                "\"threads\":%d,\"resumed_files\":%llu,\"resumed_bytes\":%llu,",
                static_cast<unsigned long long>(entries), static_cast<unsigned long long>(files),
                static_cast<unsigned long long>(content_bytes),
                static_cast<unsigned long long>(stream_bytes),
                static_cast<unsigned long long>(wire_bytes), ratio, seconds, throughput, threads,
                static_cast<unsigned long long>(resumed_files),
                static_cast<unsigned long long>(resumed_bytes));
  std::string json = std::string(numbers) + "\"stream_digest\":\"" + stream_digest + "\"";
  if (!peers.empty()) {
    json += ",\"peers\":[";
    for (size_t i = 0; i < peers.size(); ++i) {
      const PeerOutcome& peer = peers[i];
      json += (i > 0 ? ",{\"host\":" : "{\"host\":") + JsonString(peer.host) +
              ",\"ok\":" + (peer.ok ? "true" : "false");
      if (!peer.error.empty()) json += ",\"error\":" + JsonString(peer.error);
      json += "}";
    }
    json += "]";
  }
  if (!error.empty()) json += ",\"error\":" + JsonString(error);
  return json + "}";
}

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    }
  }
  return out + "\"";
}

}  // namespace xfer
