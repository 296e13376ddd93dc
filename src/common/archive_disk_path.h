// DiskPaths: where archive_write_disk is told to put a (checked) entry, so that no symlink can
// take a write outside the staging directory.
//
// archive_write_disk takes path names. Every name handed to it starts at the staging directory's
// anchor ("/proc/self/fd/N", staging_dir.h), never at a path someone could rename, and before it
// is handed over the entry's parent is resolved beneath the staging directory's descriptor with
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) (a component-by-component O_NOFOLLOW walk where
// the kernel lacks openat2), creating missing directories on the way: a symlink anywhere on the
// way, whoever made it, refuses the entry. The staging directory is ours alone (0700), so
// between the check and libarchive's use only this extraction writes there.
//
// Names reach PATH_MAX. Beyond it, libarchive 3.6 chdir()s the whole process into the
// intermediate directories (edit_deep_directories), fails to set the owner of the entry, and
// silently skips the deferred times of deep directories. So a name that would reach PATH_MAX is
// handed over as "/proc/self/fd/P/NAME" instead, P a descriptor of the entry's parent. Those
// descriptors stay open until this object dies, because libarchive uses the names again in
// archive_write_close() to set directory times and modes: destroy it after the disk writer.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "fs_util.h"
#include "xfer/status.h"

namespace xfer {

class DiskPaths {
 public:
  // staging_fd: the staging directory, open (it outlives this object); anchor: a path naming it
  // through that descriptor.
  DiskPaths(int staging_fd, std::string anchor)
      : staging_fd_(staging_fd), anchor_(std::move(anchor)) {}

  // Sets *out to the name under which libarchive should create the normalized entry path rel,
  // after checking its parent as above (Code::kUnsafe for a symlink on the way). With
  // replace_final_symlink, a symlink at rel itself is removed first (a directory entry would
  // otherwise be applied through it).
  Status Resolve(const std::string& rel, bool replace_final_symlink, std::string* out);

  // The stream changed the tree in a way that may affect a parent checked before (any entry but
  // a regular file): the next Resolve checks its parent again.
  void Forget() { checked_parent_valid_ = false; }

 private:
  // Opens the parent directory of rel beneath the staging directory (creating missing
  // directories), without following any symlink.
  Status OpenParent(const std::string& rel, UniqueFd* out);
  // The same, one component at a time: where openat2 is missing, or a directory is missing.
  Status WalkToParent(const std::vector<std::string>& components, UniqueFd* out);
  // Keeps dir open until this object dies and returns its descriptor number (one per directory).
  int Hold(UniqueFd dir);

  int staging_fd_;
  std::string anchor_;
  // Regular files in one directory come in a row: their common parent is checked once.
  std::string checked_parent_;
  bool checked_parent_valid_ = false;
  std::vector<UniqueFd> held_;
  std::map<std::pair<dev_t, ino_t>, int> held_by_inode_;
};

}  // namespace xfer
