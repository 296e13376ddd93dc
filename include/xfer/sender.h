// Sending side of a transfer: reads files, compresses, checksums and streams them to a receiver
// that handed out a ticket.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "xfer/cancel.h"
#include "xfer/report.h"
#include "xfer/status.h"
#include "xfer/ticket.h"

namespace xfer {

struct SendOptions {
  std::string host;                 // where the receiver listens
  Ticket ticket;                    // what the receiver printed
  std::vector<std::string> paths;   // files or directories, each sent under its basename
  bool compress = true;
  int level = 0;                    // zstd level 1 to 19, or 0: adapt per chunk to the bottleneck
  int threads = 0;                  // compression threads; 0: the idle cores
  uint32_t chunk_size = 1 << 20;    // bytes of pax stream per frame, 64 KiB to 16 MiB
  std::chrono::seconds timeout{300};       // connecting, and waiting for the receiver's verdict
  std::chrono::seconds idle_timeout{60};   // longest silence of the receiver while streaming
  std::chrono::milliseconds progress_interval{1000};
  ProgressCallback progress;
  LogCallback log;
  const CancelToken* cancel = nullptr;  // optional; Cancel() makes Send fail promptly
};

// Runs one transfer. Success means the receiver verified every checksum and made the data
// durable. Blocks SIGPIPE on the calling thread while it runs.
Status Send(const SendOptions& options, Report* report);

}  // namespace xfer
