// The data every fault run moves: a few MiB shaped so that a fault at a random byte lands in
// every phase of a transfer (mid-file, between small files, in a sparse file's map, in the
// manifest), built once per test binary.
#pragma once

#include <cstdint>
#include <string>

namespace xfer::testing {

struct SourceFootprint {
  uint64_t entries = 0;          // everything under and including the root
  uint64_t files = 0;            // regular files
  uint64_t content_bytes = 0;    // sum of regular file sizes
  uint64_t allocated_bytes = 0;  // sum of st_blocks * 512 (what a receiver needs room for)
};

// Builds parent/name: files larger than 1 MiB (random and text), 150 small files, nested
// subdirectories (one empty), a sparse file, an empty file and a symlink, with distinct mtimes.
// Reports failures with ADD_FAILURE.
void BuildFaultSource(const std::string& parent, const std::string& name);

// What the tree at root holds (lstat, symlinks not followed).
SourceFootprint Footprint(const std::string& root);

}  // namespace xfer::testing
