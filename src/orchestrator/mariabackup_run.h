// RunMariabackup: `xfer --type mariabackup` once pre-flight passed. With --stop-replica, STOP
// REPLICA on the source first; then the transfer (RunTransfer, the plan's exec commands: the
// source's mariadb-backup streams into each target's mbstream, and what mbstream wrote is renamed
// into DIR only when both exited 0 and every checksum passed); START REPLICA whatever happened;
// with --prepare, mariadb-backup --prepare on every target that verified, all at once.
#pragma once

#include <vector>

#include "mariabackup_plan.h"
#include "plan.h"
#include "preflight.h"
#include "progress_view.h"
#include "remote.h"
#include "xfer/cancel.h"

namespace xfer::orchestrator {

// Fills *targets as RunTransfer does; a target whose prepare failed is failed, and its error
// says so (DIR then holds the verified backup, not prepared). Returns what failed on the source
// beyond the targets' verdicts (STOP or START REPLICA), one line naming the host; else OK.
Status RunMariabackup(const Plan& plan, const MariabackupOptions& options, const SourceFacts& facts,
                      Hosts* hosts, ProgressView* view, const CancelToken& cancel,
                      std::vector<TargetState>* targets);

}  // namespace xfer::orchestrator
