// ReplicaPause: `--stop-replica`. STOP REPLICA on the source server before its backup and START
// REPLICA after it, however the backup ended: failed, cancelled (Ctrl-C, SIGTERM) or returned
// from early. Both statements go through the mariadb client on the source host (over ssh like
// every other command), in a process group of their own, so the Ctrl-C that stops a transfer
// does not also stop the START REPLICA that must follow it. Only SIGKILL of `xfer` (or a lost
// host) can leave the replica stopped; the error then says so.
//
// START REPLICA runs whenever STOP REPLICA was sent, even if STOP reported a failure (it may
// still have stopped the replica, after our deadline), and whatever the replica's state was
// before.
#pragma once

#include <chrono>
#include <string>

#include "mariabackup_plan.h"
#include "progress_view.h"
#include "remote.h"
#include "xfer/status.h"

namespace xfer::orchestrator {

class ReplicaPause {
 public:
  // source.path is the server's socket. Each statement gets `timeout` (STOP REPLICA waits for
  // the replica's current transaction). The view receives a stop_replica / start_replica event.
  ReplicaPause(Hosts* hosts, const HostPath& source, const MariabackupOptions& options,
               std::chrono::seconds timeout, bool verbose, ProgressView* view);
  // Start() if it has not run yet; its failure is printed on stderr.
  ~ReplicaPause();
  ReplicaPause(const ReplicaPause&) = delete;
  ReplicaPause& operator=(const ReplicaPause&) = delete;

  // STOP REPLICA. Fails with one line naming the host and the client's reason.
  Status Stop();
  // START REPLICA, once, if Stop() was called; OK if it was not.
  Status Start();

 private:
  Status Run(const std::string& statement, const std::string& step);

  Hosts* hosts_;
  HostPath source_;
  MariabackupOptions options_;
  std::chrono::seconds timeout_;
  bool verbose_;
  ProgressView* view_;
  bool stop_sent_ = false;
  bool started_ = false;
};

}  // namespace xfer::orchestrator
