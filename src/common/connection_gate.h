// What the receiver's listener lets through: the first connection that authenticates, and
// nothing else. A flood of silent, stalling, garbage or wrong-secret connections must neither
// keep the real sender out for long nor grow the receiver's memory with the number of
// connections.
//
// Before the sender is in (AcceptAuthenticated):
//   every accepted connection has handshake_timeout from accept to authenticate, whether it
//   speaks or not; until it is handed to the handshakes it waits in a WaitingRoom, without a
//   thread: at most max_waiting connections, at most max_per_source from one address (the
//   oldest not yet ready, of the room or of that address, goes to admit a new one, so neither a
//   crowd that connected before the sender nor one that keeps coming pushes it out);
//   those whose whole first message arrived (first_flight.h: a TLS ClientHello record or the
//   plain hello, which a sender sends at once) are authenticated by a HandshakePool,
//   max_handshakes at once, the address with the fewest handshakes running first; a connection
//   whose first bytes are neither is closed at once; while ready connections wait for a slot, a
//   handshake still running after handshake_grace is cancelled to make room (an honest one takes
//   a round trip), so stalled handshakes hold the pool for about handshake_grace, not
//   handshake_timeout. The first to authenticate wins and every other one is closed.
// A sender that was pushed out sees its connection closed or reset before authentication and
// connects again (ReceiverLink::Connect).
// While the transfer runs (ConnectionRefuser): every new connection is accepted and closed at
// once on a thread of its own, which never touches the transfer.
// Refusals are logged at most kLogBurst lines per kLogWindow, then counted.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "channel.h"
#include "deadline.h"
#include "handshake_pool.h"
#include "socket.h"
#include "xfer/cancel.h"
#include "xfer/report.h"
#include "xfer/status.h"

namespace xfer {

// Lets through the first kLogBurst lines of each kLogWindow and counts the rest, so a flood of
// connections cannot flood the log. Used by one thread.
class LogThrottle {
 public:
  static constexpr int kLogBurst = 5;
  static constexpr std::chrono::seconds kLogWindow{10};

  explicit LogThrottle(LogCallback log) : log_(std::move(log)) {}
  // Logs line as a warning unless this window's burst is spent; says how many were held back
  // since the last line that got through.
  void Warn(const std::string& line);
  uint64_t suppressed_total() const { return suppressed_total_; }

 private:
  LogCallback log_;
  Clock::time_point window_start_{};
  int in_window_ = 0;
  uint64_t suppressed_ = 0;
  uint64_t suppressed_total_ = 0;
};

struct GateOptions {
  size_t max_handshakes = 16;  // authenticated at once, each on a thread
  size_t max_waiting = 256;    // accepted, not yet authenticating: one descriptor each, no thread
  size_t max_per_source = 32;  // of max_waiting, from one source address
  // From accept to authenticated, whatever the connection does meanwhile.
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
  // How long a handshake runs before it may be cancelled for a connection waiting for its slot.
  std::chrono::milliseconds handshake_grace{std::chrono::seconds(1)};
  Deadline deadline = Deadline::Never();  // for the whole wait: then Code::kTimeout
  const CancelToken* cancel = nullptr;
  LogCallback log;
};

// Accepts connections on listener until one authenticates with handshake; returns its channel
// and "ADDR:PORT". Connections that fail are logged ("rejected connection from ADDR:PORT: why")
// and closed; the wait goes on.
Status AcceptAuthenticated(const Socket& listener, const GateOptions& options,
                           const HandshakePool::Handshake& handshake, std::unique_ptr<Channel>* out,
                           std::string* peer);

// Owns the listener once the sender is in: accepts and closes every connection until destroyed,
// then logs how many it refused.
class ConnectionRefuser {
 public:
  ConnectionRefuser(Socket listener, LogCallback log);
  ~ConnectionRefuser();
  ConnectionRefuser(const ConnectionRefuser&) = delete;
  ConnectionRefuser& operator=(const ConnectionRefuser&) = delete;

 private:
  void Run();

  Socket listener_;
  LogCallback log_;
  CancelToken stop_;
  uint64_t refused_ = 0;  // written by the thread, read after join
  std::thread thread_;
};

}  // namespace xfer
