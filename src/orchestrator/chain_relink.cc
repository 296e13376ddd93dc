#include "chain_relink.h"

namespace xfer::orchestrator {

bool FailedOnItsOwn(const std::string& error_code) {
  return error_code == "no_space" || error_code == "io_error" || error_code == "exists" ||
         error_code == "unsafe" || error_code == "invalid_argument";
}

std::vector<size_t> TargetsToRelink(const std::vector<HopEnd>& hops, bool sender_ok) {
  std::vector<size_t> again;
  // A sender fails with its receiver: only a first hop that died or failed on its own clears
  // the source.
  bool first_hop_explains = !hops.empty() && (hops[0].dead || FailedOnItsOwn(hops[0].error_code));
  if (!sender_ok && !first_hop_explains) return again;
  bool upstream_failed = false;
  for (const HopEnd& hop : hops) {
    if (hop.ok) continue;
    if (upstream_failed && !hop.dead && !FailedOnItsOwn(hop.error_code)) {
      again.push_back(hop.target);
    }
    upstream_failed = true;
  }
  return again;
}

}  // namespace xfer::orchestrator
