// SymlinkGuard: the symlinks a stream made, and the refusal of entries that would be written
// through one of them. The extractor writes into a new, private staging directory, so every
// symlink there is the stream's; the archive file writer applies the same rule, so that the same
// streams pass and `tar -x` of a stored file never writes through a link.
#pragma once

#include <string>

#include "entry_path.h"
#include "path_digest.h"
#include "xfer/status.h"

namespace xfer {

// The symlinks a stream created (entry paths relative to where it is written), as digests: a
// stream of many symlinks with long paths costs 16 bytes a link (path_digest.h).
class SymlinkGuard {
 public:
  // Fails with kUnsafe when a directory on the way to rel (not rel itself) is a symlink we made.
  Status CheckPath(const std::string& rel, const std::string& shown) const {
    if (links_.empty()) return Status::Ok();
    size_t link_length = 0;
    ForEachParentDigest(rel, [&](const Digest128& parent, size_t length) {
      if (!links_.contains(parent)) return true;
      link_length = length;
      return false;
    });
    if (link_length == 0) return Status::Ok();
    return Status(Code::kUnsafe, "refusing entry '" + shown +
                                     "': it would be written through the symlink '" +
                                     EscapeForMessage(rel.substr(0, link_length)) + "'");
  }

  // A new entry at rel replaces whatever is there. True when that is a symlink we made: the
  // caller removes the link itself first, so that libarchive cannot apply a directory's
  // metadata through it.
  bool Replaced(const std::string& rel) {
    return !links_.empty() && links_.erase(PathDigest(rel)) > 0;
  }

  // After an entry was written: a symlink entry, or a hardlink to one of ours, made a symlink.
  void Written(const std::string& rel, bool is_symlink, const std::string& hardlink_target) {
    if (is_symlink || (!hardlink_target.empty() && !links_.empty() &&
                       links_.contains(PathDigest(hardlink_target)))) {
      links_.insert(PathDigest(rel));
    }
  }

 private:
  PathDigestSet links_;
};

}  // namespace xfer
