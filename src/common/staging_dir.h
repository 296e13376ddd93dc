// StagingDir: a hidden directory inside the destination where a transfer is written before it is
// verified. It removes itself (and everything in it) unless Commit() succeeded or Keep() was
// called, so a failed transfer leaves the destination as it was.
//
// It is ours alone: created 0700 by this process (or adopted only when owned by our effective
// uid, 0700, its journal not writable by others), and reached through a descriptor opened when it
// was made, never again by its path: every write goes through anchor() ("/proc/self/fd/N"), so
// whoever can rename entries in the destination (a shared, non-sticky upload directory) cannot
// redirect a write by putting a symlink where the staging directory was.
//
// Beside it lies its journal (resume_journal.h), DEST/.xfer-staging-<hex>.journal: it names the
// transfer's top-level names, is locked for as long as the StagingDir lives, and lets a later
// run adopt what an interrupted one left.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fs_util.h"
#include "held_file.h"
#include "path_digest.h"
#include "resume_journal.h"
#include "tree_prune.h"
#include "xfer/status.h"

namespace xfer {

class StagingDir {
 public:
  StagingDir() = default;
  ~StagingDir();
  StagingDir(StagingDir&& other) noexcept;
  StagingDir& operator=(StagingDir&& other) noexcept;
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;

  // dest_dir must exist and be a directory. Creates dest_dir/.xfer-staging-<random> (mode 0700)
  // and its journal, labelled with the transfer's top-level names.
  static Status Create(const std::string& dest_dir, const std::vector<std::string>& names,
                       StagingDir* out);

  // Adopts what earlier transfers of exactly these names left in dest_dir: of the staging
  // directories whose journal no live receiver holds, the one whose journal vouches for the most
  // bytes; the others are removed. Only leftovers that are ours count (owned by our effective
  // uid, the directory 0700, the journal writable by its owner alone); each other one is left
  // alone and named in *foreign (when given), one line each. The adopted tree is pruned to its
  // directories and the held files its journal vouches for (regular, distinct inodes, long enough),
  // and its journal then vouches for exactly *held; *held_allocated is their st_blocks in bytes.
  // Journals of other names or of live receivers are left alone. With nothing to adopt, *out stays
  // empty.
  static Status Adopt(const std::string& dest_dir, const std::vector<std::string>& names,
                      StagingDir* out, HeldFiles* held, uint64_t* held_allocated,
                      std::vector<std::string>* foreign = nullptr);

  // What Adopt would find, without adopting: the bytes the files held whole by the leftover it
  // would adopt occupy on disk (0 without one; a held prefix is copied into a new file, so it
  // saves no room). For a pre-flight check of a resumed transfer.
  static Status HeldAllocated(const std::string& dest_dir, const std::vector<std::string>& names,
                              uint64_t* allocated);

  // What RemoveStale removed: staging directories, and the files and bytes their journals
  // vouched for (what a resumed run would have kept).
  struct Discarded {
    size_t dirs = 0;
    uint64_t files = 0;
    uint64_t bytes = 0;
  };

  // Removes what earlier transfers of exactly these names left in dest_dir (staging directories
  // whose journal no live receiver holds), for a run that starts afresh. Directories without a
  // journal (made by older versions) and leftovers that are not ours (see Adopt) are left alone.
  static Status RemoveStale(const std::string& dest_dir, const std::vector<std::string>& names,
                            Discarded* discarded, std::vector<std::string>* foreign = nullptr);

  // Absolute, symlink-free path of the staging directory (realpath of dest_dir + the hidden name),
  // for messages: what is written there goes through anchor().
  const std::string& path() const { return path_; }
  // "/proc/self/fd/N": the staging directory through our descriptor of it, whatever its path
  // names now. Valid while this object lives; empty when there is no staging directory.
  const std::string& anchor() const { return anchor_; }
  // Absolute, symlink-free path of the destination directory.
  const std::string& dest_dir() const { return dest_dir_; }

  // Not open when there is no staging directory.
  ResumeJournal* journal() { return &journal_; }

  // Makes everything written under the staging directory durable (syncfs of its filesystem).
  Status Sync() const;

  // Removes every entry whose path below the staging directory ("db", "db/sub/file") is not in
  // wanted (by PathDigest): an unwanted directory goes with everything in it, a wanted one is
  // descended into.
  Status PruneExcept(const PathDigestSet& wanted);

  // Moves staging/NAME to dest/NAME for each name, then fsyncs dest. With overwrite an existing
  // dest/NAME is swapped out atomically (renameat2 RENAME_EXCHANGE) and then removed; without it
  // an existing dest/NAME fails with Code::kExists before anything moves. After success the
  // staging directory (empty, or holding what overwrite swapped out) is removed, and then its
  // journal. The commit stands even when that removal fails (another user may keep writing into
  // a swapped-out tree of theirs): *leftover (may be null) then says what is left and why.
  Status Commit(const std::vector<std::string>& names, bool overwrite,
                std::string* leftover = nullptr);

  // The names at the top of the staging directory, sorted: what a command run in it created.
  Status ListEntries(std::vector<std::string>* names) const;

  // Removes the staging tree and then its journal now. Also done by the destructor (and by
  // assigning over the object) when neither committed nor kept.
  void Remove();

  // Leaves tree and journal in place when the object dies, for a later resumed run. The journal's
  // lock is released then.
  void Keep() { keep_ = true; }

 private:
  std::string dest_dir_;
  std::string path_;
  UniqueFd dest_fd_;  // dest_dir, for the commit
  UniqueFd fd_;       // the staging directory itself
  std::string anchor_;
  ResumeJournal journal_;
  bool keep_ = false;
};

// Fails with Code::kExists naming the first dest_dir/NAME that already exists.
Status CheckTargetsAbsent(const std::string& dest_dir, const std::vector<std::string>& names);

// Sets *out to the bytes an unprivileged writer may still use on dir's filesystem (root's reserve
// is not counted on).
Status AvailableBytes(const std::string& dir, uint64_t* out);

// Fails with Code::kNoSpace when dest_dir's filesystem has fewer than needed_bytes available:
// "not enough space in /data: need 12.3 GiB, 4.1 GiB free".
Status CheckFreeSpace(const std::string& dest_dir, uint64_t needed_bytes);

// "12.3 GiB", "512 B": sizes for people.
std::string FormatBytes(uint64_t bytes);

}  // namespace xfer
