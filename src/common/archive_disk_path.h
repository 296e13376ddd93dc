// DiskPaths: where archive_write_disk is told to put a (checked) entry.
//
// archive_write_disk takes path names and resolves relative ones against the process's current
// directory, which a library must not change; so every entry gets an absolute name under the
// staging directory. That works up to PATH_MAX. Beyond it, libarchive 3.6 chdir()s the whole
// process into the intermediate directories (edit_deep_directories), fails to set the owner of
// the entry, and silently skips the deferred times of deep directories. So a path that would
// reach PATH_MAX is handed over as "/proc/self/fd/N/NAME" instead, where N is a descriptor of
// the entry's parent directory, opened here one component at a time without following symlinks.
// Those descriptors stay open until this object dies, because libarchive uses the names again in
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
  explicit DiskPaths(std::string staging_dir) : staging_dir_(std::move(staging_dir)) {}

  // Sets *out to the name under which libarchive should create the normalized entry path rel.
  // A /proc/self/fd name's walk refuses symlinks on the way, with Code::kUnsafe. With
  // replace_final_symlink, a symlink at rel itself is removed first (a directory entry would
  // otherwise be applied through it).
  Status Resolve(const std::string& rel, bool replace_final_symlink, std::string* out);


 private:
  // Opens the parent directory of rel (creating missing directories) and returns its descriptor
  // number, kept open in held_.
  Status OpenParent(const std::vector<std::string>& components, int* fd);

  std::string staging_dir_;
  std::vector<UniqueFd> held_;
  std::map<std::pair<dev_t, ino_t>, int> held_by_inode_;  // one descriptor per directory
};

}  // namespace xfer
