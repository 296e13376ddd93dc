// RunTransfer: the transfer itself, once pre-flight passed. Starts the receivers (in a chain the
// last one first, since each needs its downstream's ticket), hands every ticket over stdin, starts
// the sender, follows everyone's progress and collects each target's verdict. In a chain, targets
// that lost their upstream to a dead hop are fed again in a further pass (chain_relink.h).
#pragma once

#include <vector>

#include "plan.h"
#include "preflight.h"
#include "progress_view.h"
#include "remote.h"
#include "xfer/cancel.h"

namespace xfer::orchestrator {

// Fills one TargetState per plan target, in order; a target is ok only when its receiver
// verified and committed everything.
void RunTransfer(const Plan& plan, const SourceFacts& facts, Hosts* hosts, ProgressView* view,
                 const CancelToken& cancel, std::vector<TargetState>* targets);

}  // namespace xfer::orchestrator
