// The data every fault run moves: a few MiB shaped so that a fault at a random byte lands in
// every phase of a transfer (mid-file, between small files, in a sparse file's map, in the
// manifest) and carrying every awkward corner of the round-trip tree, built once per test
// binary; what it holds, and what a copy of it lost.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xfer::testing {

struct SourceFootprint {
  uint64_t entries = 0;          // everything under and including the root
  uint64_t files = 0;            // regular files
  uint64_t content_bytes = 0;    // sum of regular file sizes
  uint64_t allocated_bytes = 0;  // sum of st_blocks * 512 (what a receiver needs room for)
};

// Builds parent/name: files larger than 1 MiB (random and text), 150 small files, nested
// subdirectories (one empty), a sparse file, an empty file and a symlink, then every awkward
// corner of the round-trip tree (tree_corners.h: paths longer than 4 KiB, names with newlines
// and invalid UTF-8, hardlinks, symlinks, a sparse file deep down, xattrs, ACLs), with distinct
// mtimes. Reports failures with ADD_FAILURE; returns what the filesystem could not hold.
std::vector<std::string> BuildFaultSource(const std::string& parent, const std::string& name);

// What the tree at root holds (lstat, symlinks not followed; paths of any length).
SourceFootprint Footprint(const std::string& root);

// Content bytes of the regular files under source that are missing or different under copy
// (paths of any length).
uint64_t BytesLost(const std::string& source, const std::string& copy);

}  // namespace xfer::testing
