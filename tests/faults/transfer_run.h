// RunTransfer: one xfer-recv and one xfer-send (the real programs) on loopback, connected through
// a TcpProxy that can inject a fault at an exact byte of the sender's stream; both processes are
// waited for with a deadline and reaped, whatever happens.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "child_process.h"
#include "tcp_proxy.h"

namespace xfer::testing {

// The two processes of a run, for a fault that acts on them from the proxy's thread.
class RunParties {
 public:
  // Sends signal to the sender (or receiver), waiting first until that process was started.
  void SignalSender(int signal) { Signal(&sender_, signal); }
  void SignalReceiver(int signal) { Signal(&receiver_, signal); }

  void SetSender(ChildProcess* sender);
  void SetReceiver(ChildProcess* receiver);

 private:
  static void Signal(std::atomic<ChildProcess*>* who, int signal);

  std::atomic<ChildProcess*> sender_{nullptr};
  std::atomic<ChildProcess*> receiver_{nullptr};
};

// Changes the sender's stream at the byte it is shown (data[0] is the byte at the fault's
// offset) or acts, and says what the proxy does next.
using FaultAction =
    std::function<TcpProxy::Decision(RunParties& parties, uint8_t* data, size_t len)>;

struct RunSpec {
  std::string dest;                  // the receiver's DIR
  std::vector<std::string> sources;  // the sender's PATHs
  bool plain = false;                // --no-encrypt
  std::vector<std::string> receiver_args;
  std::vector<std::string> sender_args;
  // The fault: action runs once, when the proxy reaches byte fault_offset of the sender's
  // stream, with the bytes before it forwarded. No action: a clean run.
  uint64_t fault_offset = 0;
  FaultAction action;
  int proxy_buffer_bytes = 0;    // TcpProxy::Hooks::socket_buffer_bytes
  bool record_upstream = false;  // keep the sender's stream (calibration)
};

struct RunOutcome {
  std::string ticket;
  int receiver_exit = -1;  // -1: did not exit by the deadline (then killed); 128+N: signal N
  int sender_exit = -1;
  std::string receiver_stdout, receiver_stderr, sender_stdout, sender_stderr;
  bool fault_injected = false;
  uint64_t upstream_bytes = 0;  // client-to-server bytes the proxy forwarded
  // For each server-to-client piece, the count of client-to-server bytes forwarded before it.
  std::vector<uint64_t> reply_offsets;
  std::string upstream;  // with record_upstream: the sender's stream as forwarded
};

// xfer's own timeouts in every run (--timeout and --idle-timeout, both programs): short, so a
// fault can never leave a process waiting long.
constexpr int kXferTimeoutSeconds = 10;
// How long a test waits for each process to exit before it calls it hung and kills it.
constexpr std::chrono::seconds kExitDeadline{60};

RunOutcome RunTransfer(const RunSpec& spec);

}  // namespace xfer::testing
