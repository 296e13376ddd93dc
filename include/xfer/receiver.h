// Receiving side of a transfer: listens, hands out a ticket, authenticates the sender, and writes
// the verified stream into a destination directory, all or nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "xfer/cancel.h"
#include "xfer/report.h"
#include "xfer/status.h"
#include "xfer/ticket.h"

namespace xfer {

struct ReceiveOptions {
  std::string dest_dir;           // must exist; each top-level entry arrives as dest_dir/NAME
  std::string listen_address;     // "" for every address
  uint16_t port = 0;              // 0: the kernel picks a free port
  bool encrypt = true;            // false: authenticated and checksummed, but in clear
  bool overwrite = false;         // replace existing dest_dir/NAME entries
  bool sync = true;               // make the data durable before committing
  int threads = 0;                // decompression threads; 0: the idle cores
  std::chrono::seconds timeout{300};      // waiting for the sender to connect
  std::chrono::seconds idle_timeout{60};  // longest silence of the sender while streaming
  std::chrono::milliseconds progress_interval{1000};
  ProgressCallback progress;
  LogCallback log;
  const CancelToken* cancel = nullptr;
};

class Receiver {
 public:
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  // Checks dest_dir and starts listening; the ticket is ready as soon as this returns.
  static Status Listen(const ReceiveOptions& options, std::unique_ptr<Receiver>* out);

  const Ticket& ticket() const;
  uint16_t port() const;

  // Waits for the sender and receives one transfer. Call once.
  Status Run(Report* report);

 private:
  struct State;
  explicit Receiver(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace xfer
