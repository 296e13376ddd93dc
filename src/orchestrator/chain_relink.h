// Re-linking a chain: after a pass of source -> T1 -> T2 -> ..., which targets get another pass.
// A hop that dies (its xfer-recv ended without a result: killed, its ssh connection lost, no word
// from it) or fails takes down the targets after it, which lose their upstream. Those that did
// not fail on their own account are fed again by a new chain from the source that leaves the
// failed hops out, and resume what they already hold. Mid-stream splicing is not possible: the
// hop before the dead one does not keep the frames it already passed on.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace xfer::orchestrator {

// How one hop of a pass ended.
struct HopEnd {
  size_t target = 0;  // index into the plan's targets
  bool ok = false;    // verified and committed
  bool dead = false;  // ended without a result of its own: killed, cut off, lost contact
  // The code of its {"event":"error"} line ("no_space", "network"...); "" when it printed none.
  std::string error_code;
};

// Its failure was its own (its disk, its output, its destination) and another pass would end
// the same way.
bool FailedOnItsOwn(const std::string& error_code);

// hops: one pass of a chain, in chain order. The targets (as HopEnd::target) to feed in a
// further pass: every one that did not verify, behind a hop that failed or died, and that
// neither died nor failed on its own. The first failed hop is never among them, so each pass
// leaves out at least one target and passes are bounded by the number of targets. Empty when
// the sender failed and the first hop neither died nor failed on its own: then the source is
// the problem, not a hop.
std::vector<size_t> TargetsToRelink(const std::vector<HopEnd>& hops, bool sender_ok);

}  // namespace xfer::orchestrator
