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
                "\"threads\":%d,",
                static_cast<unsigned long long>(entries), static_cast<unsigned long long>(files),
                static_cast<unsigned long long>(content_bytes),
                static_cast<unsigned long long>(stream_bytes),
                static_cast<unsigned long long>(wire_bytes), ratio, seconds, throughput, threads);
  return std::string(numbers) + "\"stream_digest\":\"" + stream_digest + "\"}";
}

}  // namespace xfer
