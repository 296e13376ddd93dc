// FirewallGuard: a small process, forked by xfer-recv, that owns its firewall rules, so that no
// way xfer-recv ends (a SIGKILL from `xfer` after a Ctrl-C, the OOM killer) leaves them behind.
//
// The guard leaves xfer-recv's process group and session (a Ctrl-C on the terminal, or a signal
// to the group, must not take it before the rules are gone), ignores SIGINT, SIGTERM and SIGHUP,
// keeps only stderr (for its log lines) and a socket to xfer-recv, and runs a FirewallOpening
// for it. It removes the rules and exits when xfer-recv asks it to (Close), or as soon as the
// socket ends: xfer-recv is gone, however it went. Since it holds stderr until then, whoever
// waits for the end of xfer-recv's stderr (`xfer`, sshd, a shell pipeline) waits until the rules
// are gone.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "xfer/report.h"
#include "xfer/status.h"

namespace xfer::cli {

class FirewallGuard {
 public:
  // Forks the guard. Call before the program starts any thread: the guard runs on after fork
  // without exec, which is safe only when the parent had a single thread. log is called in the
  // guard (one kInfo line per rule added or removed).
  static Status Start(LogCallback log, std::unique_ptr<FirewallGuard>* out);
  // Close(), with a failure reported through log; then reaps the guard if it answered.
  ~FirewallGuard();
  FirewallGuard(const FirewallGuard&) = delete;
  FirewallGuard& operator=(const FirewallGuard&) = delete;

  // FirewallOpening::Open, in the guard: the rules carry the comment "xfer-recv PID", with this
  // process's PID.
  Status Open(const std::string& peer, uint16_t port);
  // Has the guard remove every rule, waits for its answer and lets it exit. Later calls do
  // nothing.
  Status Close();

 private:
  FirewallGuard(pid_t pid, int socket, LogCallback log);
  // Sends one request line and waits for the guard's answer, which goes to *status; false (with
  // *status saying so) when none came.
  bool Ask(const std::string& request, Status* status);

  pid_t pid_;
  int socket_;  // -1 once closed
  LogCallback log_;
};

}  // namespace xfer::cli
