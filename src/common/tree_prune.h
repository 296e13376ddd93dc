// Removing trees without following symlinks, at any depth: RemoveTree takes a tree away,
// PruneTreeAt removes what a judge picks from below an open directory that stays, EmptyTreeAt
// everything below it.
//
// Whatever the depth, a walk holds at most three descriptors, keeps names rather than
// descriptors for the way back up, and checks it climbs back to where it came from; it never
// enters another filesystem mounted inside the tree (it refuses instead).
#pragma once

#include <sys/stat.h>

#include <functional>
#include <string>

#include "xfer/status.h"

namespace xfer {

// What becomes of an entry met by a pruning walk. A kept directory is descended into.
enum class Fate { kKeep, kRemove };
// Decides an entry's fate from its path below the walk's root ("db/sub/file") and its lstat.
using Judge = std::function<Fate(const std::string& rel, const struct stat& st)>;

// Removes what judge says below the directory open as dir_fd, which stays (and stays open:
// the walk works on a descriptor of its own). shown names it in messages.
Status PruneTreeAt(int dir_fd, const std::string& shown, const Judge& judge);

// Removes everything below the directory open as dir_fd, which stays.
Status EmptyTreeAt(int dir_fd, const std::string& shown);

// Removes a tree without following symlinks; paths of any length. Missing is not an error.
Status RemoveTree(const std::string& path);

}  // namespace xfer
