// Pre-flight: before any data moves, every host is asked at once, in parallel, whether the
// transfer can work: reachable, programs present and speaking our protocol, the source readable
// (and how big), each target directory usable and the name free; then, the size known, whether
// every target has the space (by xfer-recv's own rule).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plan.h"
#include "remote.h"

namespace xfer::orchestrator {

struct SourceFacts {
  std::string name;  // the top-level name the targets receive
  uint64_t entries = 0;
  uint64_t files = 0;
  uint64_t bytes = 0;            // file content
  uint64_t allocated_bytes = 0;  // what the files occupy on disk
};

// Fills *facts and returns OK when every check passed; otherwise every problem found, each
// one line naming its host, in *problems.
void RunPreflight(const Plan& plan, Hosts* hosts, SourceFacts* facts,
                  std::vector<std::string>* problems);

// The name a source path arrives under: its last component. "." and ".." are refused, since the
// name must be known before the source host is asked.
Status TopNameOf(const std::string& path, std::string* name);

}  // namespace xfer::orchestrator
