// Pre-flight of `xfer --type mariabackup`, every host at once, before the server is touched:
//   source: xfer-send present and speaking our protocol; SOCKET exists and is a socket;
//           mariadb-backup (and, with --stop-replica, the mariadb client) executable;
//   target: xfer-recv present, same protocol, DIR takes new entries (its own --preflight);
//           DIR empty, but for a lost+found; mbstream (and, with --prepare, mariadb-backup)
//           executable.
// DIR must be empty because a backup's names are not known in advance: what mbstream writes
// lands directly in DIR, which must then be exactly the backup for a server to start on it. The
// size is not known either, so the space on the targets is not checked beforehand (a full disk
// fails the transfer, and nothing is left in DIR).
#pragma once

#include <string>
#include <vector>

#include "mariabackup_plan.h"
#include "plan.h"
#include "remote.h"

namespace xfer::orchestrator {

// Every problem found goes to *problems as one line naming its host; none: all is ready.
void RunMariabackupPreflight(const Plan& plan, const MariabackupOptions& options, Hosts* hosts,
                             std::vector<std::string>* problems);

}  // namespace xfer::orchestrator
