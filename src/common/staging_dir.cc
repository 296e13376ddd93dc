#include "staging_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE, RENAME_EXCHANGE
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <memory>
#include <set>
#include <utility>

#include "fs_util.h"

namespace xfer {

namespace {

constexpr char kStagingPrefix[] = ".xfer-staging-";
constexpr size_t kRandomBytes = 8;  // 16 hex digits

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

Status OpenDirectory(const std::string& path, UniqueFd* out) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(errno, "opening " + path);
  *out = std::move(fd);
  return Status::Ok();
}

// ---- Walking a tree: RemoveTree and pruning ----
// Whatever the depth, a walk holds at most three descriptors: the root's parent, the current
// directory, and briefly a child or a listing. It keeps names, not fds, for the way back up and
// climbs with openat(fd, ".."), checking that it arrives where it came from. So trees deeper
// than PATH_MAX or RLIMIT_NOFILE are fine.

// What becomes of an entry met by a pruning walk. A kept directory is descended into.
enum class Fate { kKeep, kRemove };
// Decides an entry's fate from its path below the walk's root and its lstat.
using Judge = std::function<Fate(const std::string& rel, const struct stat& st)>;

struct Subdir {
  std::string name;
  bool remove;
};

// One directory on the path from the root of the tree down to where the walk is.
struct Level {
  std::string name;  // its name in the level above
  dev_t dev;
  ino_t ino;
  bool remove;                  // it goes, with everything in it
  std::vector<Subdir> subdirs;  // not yet descended into
};

// The path of levels[1..] below root (for messages only; it may exceed PATH_MAX).
std::string Describe(const std::string& root, const std::vector<Level>& levels,
                     const std::string& last = "") {
  std::string path = root;
  for (size_t i = 1; i < levels.size(); ++i) path = JoinPath(path, levels[i].name);
  return last.empty() ? path : JoinPath(path, last);
}

// The path of the deepest level's entry `name` relative to the root: what a Judge sees.
std::string Relative(const std::vector<Level>& levels, const std::string& name) {
  std::string rel;
  for (size_t i = 1; i < levels.size(); ++i) rel += levels[i].name + "/";
  return rel + name;
}

// Opens parent/name as a directory without following a symlink, and makes it readable, writable
// and searchable by us: a transfer may have left a 0000 or 0500 directory that must still go (a
// directory kept by pruning keeps the added bits; extraction sets every directory's mode last).
// Returns 0 or an errno (ELOOP/ENOTDIR: it is not a directory).
int OpenForRemoval(int parent, const std::string& name, UniqueFd* out, struct stat* st) {
  constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  UniqueFd fd(openat(parent, name.c_str(), kFlags));
  if (!fd.valid() && errno == EACCES) {
    // Only without CAP_DAC_OVERRIDE; we may still own it. NOFOLLOW: never chmod a link's target.
    if (fchmodat(parent, name.c_str(), S_IRWXU, AT_SYMLINK_NOFOLLOW) != 0) return EACCES;
    fd.reset(openat(parent, name.c_str(), kFlags));
  }
  if (!fd.valid()) return errno;
  if (fstat(fd.get(), st) != 0) return errno;
  if ((st->st_mode & S_IRWXU) != S_IRWXU &&
      fchmod(fd.get(), (st->st_mode & 07777) | S_IRWXU) != 0) {
    return errno;
  }
  *out = std::move(fd);
  return 0;
}

// A mount inside the tree (a bind mount of the same filesystem included) holds someone else's
// data: `rm -rf` would empty it, we refuse instead.
bool IsMountRoot(int fd, const struct stat& st, dev_t tree_dev) {
  if (st.st_dev != tree_dev) return true;
  struct statx stx;
  if (statx(fd, "", AT_EMPTY_PATH, 0, &stx) != 0) return false;  // pre-4.11 kernel: dev check only
  return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 &&
         (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

// Deals with the entries of the deepest level (open as dir_fd): unlinks the non-directories that
// go and records its subdirectories there. In a level that goes everything goes, known from
// d_type alone; elsewhere judge decides from an lstat. The listing is read to the end before
// anything is unlinked, because removing entries while readdir() walks a directory may make it
// skip others on some filesystems. Paths for messages are built only on failure: they grow with
// the depth.
Status SortEntries(int dir_fd, const std::string& root, const Judge& judge,
                   std::vector<Level>* levels) {
  auto where = [&](const std::string& name = "") { return Describe(root, *levels, name); };
  std::vector<std::pair<std::string, unsigned char>> entries;
  {
    // fdopendir takes its own descriptor, so dir_fd stays ours; closed at the end of this block.
    int dup_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0) return Status::FromErrno(errno, "reading " + where());
    std::unique_ptr<DIR, int (*)(DIR*)> dir(fdopendir(dup_fd), closedir);
    if (!dir) {
      int err = errno;
      close(dup_fd);
      return Status::FromErrno(err, "reading " + where());
    }
    for (;;) {
      errno = 0;
      const dirent* entry = readdir(dir.get());
      if (entry == nullptr) break;
      std::string name = entry->d_name;
      if (name != "." && name != "..") entries.emplace_back(std::move(name), entry->d_type);
    }
    if (errno != 0) return Status::FromErrno(errno, "reading " + where());
  }
  Level& level = levels->back();
  for (auto& [name, type] : entries) {
    bool is_dir = type == DT_DIR;
    bool remove = level.remove;
    if (!remove) {
      struct stat st;
      if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;
        return Status::FromErrno(errno, "checking " + where(name));
      }
      is_dir = S_ISDIR(st.st_mode);
      remove = judge(Relative(*levels, name), st) == Fate::kRemove;
    }
    if (is_dir) {
      level.subdirs.push_back({std::move(name), remove});
    } else if (remove && unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
      // EISDIR: d_type was DT_UNKNOWN (some filesystems) or a directory took the name meanwhile.
      if (errno != EISDIR) return Status::FromErrno(errno, "removing " + where(name));
      level.subdirs.push_back({std::move(name), true});
    }
  }
  return Status::Ok();
}

// Walks the directory open as `cur` (found at path, described by st) and removes what goes: with
// root_goes everything below it (judge is not asked), else what judge says. The root itself
// stays: removing it is the caller's part.
Status WalkTree(UniqueFd cur, const struct stat& st, const std::string& path, bool root_goes,
                const Judge& judge) {
  std::vector<Level> levels;
  levels.push_back({"", st.st_dev, st.st_ino, root_goes, {}});
  XFER_RETURN_IF_ERROR(SortEntries(cur.get(), path, judge, &levels));
  for (;;) {
    if (!levels.back().subdirs.empty()) {
      Subdir sub = std::move(levels.back().subdirs.back());
      levels.back().subdirs.pop_back();
      UniqueFd child;
      struct stat child_st;
      int err = OpenForRemoval(cur.get(), sub.name, &child, &child_st);
      if (err == ENOENT) continue;
      if (err == ELOOP || err == ENOTDIR) {  // replaced by a file or symlink since it was listed
        if (unlinkat(cur.get(), sub.name.c_str(), 0) == 0 || errno == ENOENT) continue;
        err = errno;
      }
      if (err != 0) return Status::FromErrno(err, "removing " + Describe(path, levels, sub.name));
      if (IsMountRoot(child.get(), child_st, levels.front().dev)) {
        return Status(Code::kIoError, "not descending into " + Describe(path, levels, sub.name) +
                                          ": a filesystem is mounted there");
      }
      levels.push_back({std::move(sub.name), child_st.st_dev, child_st.st_ino, sub.remove, {}});
      cur = std::move(child);
      XFER_RETURN_IF_ERROR(SortEntries(cur.get(), path, judge, &levels));
      continue;
    }
    if (levels.size() == 1) return Status::Ok();
    // Done with the current directory: climb to its parent, make sure it is the one we came from
    // (the tree was not moved under us), and remove the current one from there if it goes.
    struct stat parent_st;
    UniqueFd parent(openat(cur.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!parent.valid() || fstat(parent.get(), &parent_st) != 0) {
      return Status::FromErrno(errno, "climbing out of " + Describe(path, levels));
    }
    const Level& above = levels[levels.size() - 2];
    if (parent_st.st_dev != above.dev || parent_st.st_ino != above.ino) {
      return Status(Code::kIoError, Describe(path, levels) + " was moved while being walked");
    }
    Level done = std::move(levels.back());
    levels.pop_back();
    cur = std::move(parent);
    if (done.remove && unlinkat(cur.get(), done.name.c_str(), AT_REMOVEDIR) != 0 &&
        errno != ENOENT) {
      return Status::FromErrno(errno, "removing " + Describe(path, levels, done.name));
    }
  }
}

// Removes top/base, known to have been a directory, and everything below it.
Status RemoveDirectoryTree(int top, const std::string& base, const std::string& path) {
  struct stat st;
  UniqueFd root;
  if (int err = OpenForRemoval(top, base, &root, &st)) {
    if (err == ENOENT) return Status::Ok();
    if ((err == ELOOP || err == ENOTDIR) &&
        (unlinkat(top, base.c_str(), 0) == 0 || errno == ENOENT)) {
      return Status::Ok();  // replaced by a file or symlink since we looked: that goes instead
    }
    return Status::FromErrno(err, "removing " + path);
  }
  XFER_RETURN_IF_ERROR(WalkTree(std::move(root), st, path, /*root_goes=*/true, Judge()));
  if (unlinkat(top, base.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return Status::FromErrno(errno, "removing " + path);
  }
  return Status::Ok();
}

// Removes what judge says below the directory at path, which stays.
Status PruneTree(const std::string& path, const Judge& judge) {
  struct stat st;
  UniqueFd root;
  if (int err = OpenForRemoval(AT_FDCWD, path, &root, &st)) {
    return Status::FromErrno(err, "opening " + path);
  }
  return WalkTree(std::move(root), st, path, /*root_goes=*/false, judge);
}

// ---- Commit ----

// Commit takes top-level entry names only: anything else could move data outside dest_dir.
Status CheckNames(const std::vector<std::string>& names) {
  std::set<std::string> seen;
  for (const std::string& name : names) {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
      return Status(Code::kInvalidArgument, "cannot commit \"" + name + "\": not a plain name");
    }
    if (!seen.insert(name).second) {
      return Status(Code::kInvalidArgument, "cannot commit \"" + name + "\" twice");
    }
  }
  return Status::Ok();
}

Status CheckAbsentAt(int dest_fd, const std::string& dest_dir,
                     const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    struct stat st;
    // NOFOLLOW: a dangling symlink is an existing entry too.
    if (fstatat(dest_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      return Status(Code::kExists, "destination " + JoinPath(dest_dir, name) + " already exists");
    }
    if (errno != ENOENT) {
      return Status::FromErrno(errno, "checking destination " + JoinPath(dest_dir, name));
    }
  }
  return Status::Ok();
}

// Moves staging/name to dest/name. RENAME_NOREPLACE: an entry created there meanwhile is never
// clobbered. With overwrite an existing entry is swapped out by RENAME_EXCHANGE (dest/name
// exists at every instant; works for a directory against a file too) and stays in the staging
// directory, to be removed with it.
Status MoveIntoPlace(int staging_fd, int dest_fd, const std::string& dest_dir,
                     const std::string& name, bool overwrite) {
  const char* c_name = name.c_str();
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (renameat2(staging_fd, c_name, dest_fd, c_name, RENAME_NOREPLACE) == 0) return Status::Ok();
    if (errno != EEXIST) break;
    if (!overwrite) {
      return Status(Code::kExists, "destination " + JoinPath(dest_dir, name) + " already exists");
    }
    if (renameat2(staging_fd, c_name, dest_fd, c_name, RENAME_EXCHANGE) == 0) return Status::Ok();
    if (errno != ENOENT) break;  // ENOENT: dest/name vanished between the two calls; retry
  }
  if (errno == EINVAL) {
    return Status(Code::kIoError, "moving " + name + " into " + dest_dir +
                                      ": the filesystem does not support atomic no-replace rename");
  }
  return Status::FromErrno(errno, "moving " + name + " into " + dest_dir);
}

// " (already moved: a, b)" for a failure midway, so the operator knows what changed.
std::string MovedSoFar(const std::vector<std::string>& moved) {
  if (moved.empty()) return " (nothing was moved)";
  constexpr size_t kMaxListed = 10;
  std::string text = " (already moved: ";
  for (size_t i = 0; i < moved.size() && i < kMaxListed; ++i) {
    text += (i == 0 ? "" : ", ") + moved[i];
  }
  if (moved.size() > kMaxListed)
    text += " and " + std::to_string(moved.size() - kMaxListed) + " more";
  return text + ")";
}

// ---- Journals and what earlier transfers left ----

constexpr char kJournalSuffix[] = ".journal";

std::string JournalPath(const std::string& staging_path) { return staging_path + kJournalSuffix; }

// ".xfer-staging-<16 hex>.journal" gives ".xfer-staging-<16 hex>"; any other name, false.
bool StagingNameOfJournal(const std::string& name, std::string* staging_name) {
  const size_t prefix = sizeof kStagingPrefix - 1, suffix = sizeof kJournalSuffix - 1;
  const size_t hex = 2 * kRandomBytes;
  if (name.size() != prefix + hex + suffix || name.rfind(kStagingPrefix, 0) != 0 ||
      name.compare(prefix + hex, suffix, kJournalSuffix) != 0 ||
      name.find_first_not_of("0123456789abcdef", prefix) != prefix + hex) {
    return false;
  }
  *staging_name = name.substr(0, prefix + hex);
  return true;
}

// The staging directories in dest_dir that have a journal, by name.
Status ListJournaled(const std::string& dest_dir, std::vector<std::string>* staging_names) {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(dest_dir.c_str()), closedir);
  if (!dir) return Status::FromErrno(errno, "reading " + dest_dir);
  for (;;) {
    errno = 0;
    const dirent* entry = readdir(dir.get());
    if (entry == nullptr) break;
    std::string staging_name;
    if (StagingNameOfJournal(entry->d_name, &staging_name)) {
      staging_names->push_back(std::move(staging_name));
    }
  }
  if (errno != 0) return Status::FromErrno(errno, "reading " + dest_dir);
  return Status::Ok();
}

// Removes a staging tree and then its journal, whose lock the caller holds. The journal goes only
// once the tree is gone: a tree without its journal would be left alone by every later run.
Status RemoveStaging(const std::string& path) {
  XFER_RETURN_IF_ERROR(RemoveTree(path));
  const std::string journal = JournalPath(path);
  if (unlink(journal.c_str()) != 0 && errno != ENOENT) {
    return Status::FromErrno(errno, "removing " + journal);
  }
  return Status::Ok();
}

// A staging directory left by an earlier transfer, its journal now locked by us.
struct Leftover {
  std::string path;  // the staging directory
  bool is_dir;       // false after a crash between creating the journal and the directory
  ResumeJournal journal;
  HeldFiles held;
};

// Locks the journals in dest_dir (resolved) labelled with exactly `names` that no live receiver
// holds.
Status ClaimLeftovers(const std::string& dest_dir, const std::vector<std::string>& names,
                      std::vector<Leftover>* out) {
  std::vector<std::string> staging_names;
  XFER_RETURN_IF_ERROR(ListJournaled(dest_dir, &staging_names));
  for (const std::string& staging_name : staging_names) {
    Leftover leftover{JoinPath(dest_dir, staging_name), false, {}, {}};
    const std::string journal = JournalPath(leftover.path);
    // The names first, without the lock: what has no intact header is not a journal of ours, or
    // one being created, whose creator must be the one to lock it.
    std::vector<std::string> labelled;
    if (!ResumeJournal::ReadNames(journal, &labelled).ok() || labelled != names) continue;
    Status status = ResumeJournal::Open(journal, &leftover.journal, &labelled, &leftover.held);
    if (status.code() == Code::kExists) continue;  // a live receiver's
    XFER_RETURN_IF_ERROR(status);
    struct stat st;
    leftover.is_dir = lstat(leftover.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    out->push_back(std::move(leftover));
  }
  return Status::Ok();
}

uint64_t VouchedBytes(const HeldFiles& held) {
  uint64_t bytes = 0;
  for (const auto& [path, file] : held) bytes += file.have;
  return bytes;
}

// The leftover to adopt: a directory whose journal vouches for the most bytes; null if none.
Leftover* BestLeftover(std::vector<Leftover>* leftovers) {
  Leftover* best = nullptr;
  for (Leftover& leftover : *leftovers) {
    if (leftover.is_dir &&
        (best == nullptr || VouchedBytes(leftover.held) > VouchedBytes(best->held))) {
      best = &leftover;
    }
  }
  return best;
}

// Whether a regular file of this size can hold what the journal vouches for: at least the
// verified prefix, and exactly the full size once complete.
bool MayHold(const HeldFile& file, const struct stat& st) {
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  return size >= file.have && (file.have < file.size || size == file.size);
}

// Prunes an adopted staging tree to its directories and the files its journal vouches for, and
// makes the journal vouch for exactly what is kept: a resumed run writes every other path anew,
// without invalidating it first.
Status PruneToHeld(const std::string& path, ResumeJournal* journal, HeldFiles* held,
                   uint64_t* allocated) {
  HeldFiles kept;
  std::set<std::pair<dev_t, ino_t>> inodes;
  *allocated = 0;
  Judge judge = [&](const std::string& rel, const struct stat& st) {
    if (S_ISDIR(st.st_mode)) return Fate::kKeep;
    auto found = held->find(rel);
    // One inode under two held names: rewriting one would change the other.
    if (found == held->end() || !S_ISREG(st.st_mode) || !MayHold(found->second, st) ||
        !inodes.insert({st.st_dev, st.st_ino}).second) {
      return Fate::kRemove;
    }
    kept.insert(*found);
    *allocated += static_cast<uint64_t>(st.st_blocks) * 512;
    return Fate::kKeep;
  };
  XFER_RETURN_IF_ERROR(PruneTree(path, judge));
  for (const auto& [file_path, file] : *held) {
    if (!kept.contains(file_path)) XFER_RETURN_IF_ERROR(journal->Invalidate(file_path));
  }
  *held = std::move(kept);
  return Status::Ok();
}

// Sets *real to the absolute, symlink-free path of dest_dir, which must be a directory.
Status ResolveDestDir(const std::string& dest_dir, std::string* real) {
  struct stat st;
  if (stat(dest_dir.c_str(), &st) != 0) {
    int err = errno;
    Status status = Status::FromErrno(err, "destination " + dest_dir);
    if (err == ENOENT || err == ENOTDIR) return Status(Code::kInvalidArgument, status.message());
    return status;
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status(Code::kInvalidArgument, "destination " + dest_dir + " is not a directory");
  }
  std::unique_ptr<char, void (*)(void*)> resolved(realpath(dest_dir.c_str(), nullptr), free);
  if (!resolved) return Status::FromErrno(errno, "resolving destination " + dest_dir);
  *real = resolved.get();
  return Status::Ok();
}

}  // namespace

StagingDir::~StagingDir() {
  if (!keep_) Remove();
}

StagingDir::StagingDir(StagingDir&& other) noexcept
    : dest_dir_(std::move(other.dest_dir_)),
      path_(std::exchange(other.path_, {})),
      journal_(std::move(other.journal_)),
      keep_(std::exchange(other.keep_, false)) {}

StagingDir& StagingDir::operator=(StagingDir&& other) noexcept {
  if (this != &other) {
    if (!keep_) Remove();
    dest_dir_ = std::move(other.dest_dir_);
    path_ = std::exchange(other.path_, {});
    journal_ = std::move(other.journal_);
    keep_ = std::exchange(other.keep_, false);
  }
  return *this;
}

Status StagingDir::Create(const std::string& dest_dir, const std::vector<std::string>& names,
                          StagingDir* out) {
  StagingDir staging;
  XFER_RETURN_IF_ERROR(ResolveDestDir(dest_dir, &staging.dest_dir_));
  std::string suffix;
  XFER_RETURN_IF_ERROR(RandomHex(kRandomBytes, &suffix));
  std::string path = JoinPath(staging.dest_dir_, kStagingPrefix + suffix);
  // The journal first: a crash before the mkdir then leaves a journal that names its transfer,
  // which a later run of it removes, rather than an unlabelled directory that nobody removes.
  XFER_RETURN_IF_ERROR(ResumeJournal::Create(JournalPath(path), names, &staging.journal_));
  if (mkdir(path.c_str(), 0700) != 0) {
    Status status = Status::FromErrno(errno, "creating staging directory " + path);
    unlink(JournalPath(path).c_str());
    return status;
  }
  staging.path_ = std::move(path);
  *out = std::move(staging);
  return Status::Ok();
}

Status StagingDir::Adopt(const std::string& dest_dir, const std::vector<std::string>& names,
                         StagingDir* out, HeldFiles* held, uint64_t* held_allocated) {
  held->clear();
  *held_allocated = 0;
  std::string real;
  XFER_RETURN_IF_ERROR(ResolveDestDir(dest_dir, &real));
  std::vector<Leftover> leftovers;
  XFER_RETURN_IF_ERROR(ClaimLeftovers(real, names, &leftovers));
  Leftover* best = BestLeftover(&leftovers);
  for (Leftover& leftover : leftovers) {
    if (&leftover != best) XFER_RETURN_IF_ERROR(RemoveStaging(leftover.path));
  }
  if (best == nullptr) return Status::Ok();
  XFER_RETURN_IF_ERROR(PruneToHeld(best->path, &best->journal, &best->held, held_allocated));
  StagingDir staging;
  staging.dest_dir_ = std::move(real);
  staging.path_ = std::move(best->path);
  staging.journal_ = std::move(best->journal);
  *held = std::move(best->held);
  *out = std::move(staging);
  return Status::Ok();
}

Status StagingDir::HeldAllocated(const std::string& dest_dir,
                                 const std::vector<std::string>& names, uint64_t* allocated) {
  *allocated = 0;
  std::string resolved;
  XFER_RETURN_IF_ERROR(ResolveDestDir(dest_dir, &resolved));
  std::vector<Leftover> leftovers;
  XFER_RETURN_IF_ERROR(ClaimLeftovers(resolved, names, &leftovers));
  const Leftover* best = BestLeftover(&leftovers);
  if (best == nullptr) return Status::Ok();
  for (const auto& [path, file] : best->held) {
    struct stat st;
    if (lstat(JoinPath(best->path, path).c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      *allocated += static_cast<uint64_t>(st.st_blocks) * 512;
    }
  }
  return Status::Ok();
}

Status StagingDir::RemoveStale(const std::string& dest_dir, const std::vector<std::string>& names,
                               size_t* removed) {
  *removed = 0;
  std::string real;
  XFER_RETURN_IF_ERROR(ResolveDestDir(dest_dir, &real));
  std::vector<Leftover> leftovers;
  XFER_RETURN_IF_ERROR(ClaimLeftovers(real, names, &leftovers));
  for (const Leftover& leftover : leftovers) {
    XFER_RETURN_IF_ERROR(RemoveStaging(leftover.path));
    ++*removed;
  }
  return Status::Ok();
}

Status StagingDir::Sync() const {
  if (path_.empty()) return Status(Code::kInvalidArgument, "no staging directory to sync");
  UniqueFd fd;
  XFER_RETURN_IF_ERROR(OpenDirectory(path_, &fd));
  // One syncfs flushes every file and directory written under the staging directory; see
  // bench/README-sync.md for why not an fsync of each.
  if (syncfs(fd.get()) != 0) return Status::FromErrno(errno, "syncing filesystem of " + path_);
  return Status::Ok();
}

Status StagingDir::Commit(const std::vector<std::string>& names, bool overwrite) {
  if (path_.empty()) return Status(Code::kInvalidArgument, "no staging directory to commit");
  XFER_RETURN_IF_ERROR(CheckNames(names));
  UniqueFd dest_fd, staging_fd;
  XFER_RETURN_IF_ERROR(OpenDirectory(dest_dir_, &dest_fd));
  XFER_RETURN_IF_ERROR(OpenDirectory(path_, &staging_fd));

  // Check everything that can be checked before the first rename, so that a refusal leaves the
  // destination as it was.
  for (const std::string& name : names) {
    struct stat st;
    if (fstatat(staging_fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Status::FromErrno(errno, "staged entry " + JoinPath(path_, name));
    }
  }
  if (!overwrite) XFER_RETURN_IF_ERROR(CheckAbsentAt(dest_fd.get(), dest_dir_, names));

  std::vector<std::string> moved;
  for (const std::string& name : names) {
    Status status = MoveIntoPlace(staging_fd.get(), dest_fd.get(), dest_dir_, name, overwrite);
    if (!status.ok()) return Status(status.code(), status.message() + MovedSoFar(moved));
    moved.push_back(name);
  }
  // The renames are entries of dest_dir: durable only once dest_dir itself is synced.
  if (fsync(dest_fd.get()) != 0) {
    return Status::FromErrno(errno, "syncing " + dest_dir_ + " after moving every entry into it");
  }

  // Committed: from here on the destructor must not touch anything. What is left in the staging
  // directory is only what overwrite swapped out.
  std::string staging_path = std::exchange(path_, {});
  staging_fd.reset();
  Status removed = RemoveStaging(staging_path);
  journal_ = ResumeJournal();
  if (!removed.ok()) {
    return removed.WithContext("every entry is in place in " + dest_dir_ +
                               ", but the staging directory could not be removed");
  }
  return Status::Ok();
}

Status StagingDir::PruneExcept(const std::unordered_set<std::string>& wanted) {
  if (path_.empty()) return Status(Code::kInvalidArgument, "no staging directory to prune");
  return PruneTree(path_, [&wanted](const std::string& rel, const struct stat&) {
    return wanted.contains(rel) ? Fate::kKeep : Fate::kRemove;
  });
}

void StagingDir::Remove() {
  if (path_.empty()) return;
  try {
    // Nowhere to report to from a destructor; the worst case is a leftover hidden directory,
    // which a later run of the same transfer removes as long as its journal is there.
    Status ignored = RemoveStaging(path_);
    (void)ignored;
  } catch (...) {  // std::bad_alloc: never let it out of a destructor
  }
  path_.clear();
  journal_ = ResumeJournal();  // the lock goes only after the journal file
}

Status CheckTargetsAbsent(const std::string& dest_dir, const std::vector<std::string>& names) {
  UniqueFd dest_fd;
  XFER_RETURN_IF_ERROR(OpenDirectory(dest_dir, &dest_fd));
  return CheckAbsentAt(dest_fd.get(), dest_dir, names);
}

Status AvailableBytes(const std::string& dir, uint64_t* out) {
  struct statvfs vfs;
  if (statvfs(dir.c_str(), &vfs) != 0) {
    return Status::FromErrno(errno, "checking free space in " + dir);
  }
  // f_bavail: what an unprivileged writer may use; root's reserve is not counted on.
  *out = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  return Status::Ok();
}

Status CheckFreeSpace(const std::string& dest_dir, uint64_t needed_bytes) {
  uint64_t free_bytes = 0;
  XFER_RETURN_IF_ERROR(AvailableBytes(dest_dir, &free_bytes));
  if (free_bytes >= needed_bytes) return Status::Ok();
  return Status(Code::kNoSpace, "not enough space in " + dest_dir + ": need " +
                                    FormatBytes(needed_bytes) + ", " + FormatBytes(free_bytes) +
                                    " free");
}

std::string FormatBytes(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  // 1023.95 and up would print as "1024.0": show the next unit instead.
  while (value >= 1023.95 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
  return text;
}

Status RemoveTree(const std::string& path) {
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  size_t slash = trimmed.rfind('/');
  std::string parent = slash == std::string::npos ? "." : trimmed.substr(0, slash == 0 ? 1 : slash);
  std::string base = slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
  if (base.empty() || base == "." || base == "..") {
    return Status(Code::kInvalidArgument, "refusing to remove \"" + path + "\"");
  }
  // O_PATH: the parent needs to be searchable, not readable.
  UniqueFd top(open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!top.valid()) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::Ok();
    return Status::FromErrno(errno, "removing " + path);
  }
  struct stat st;
  if (fstatat(top.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Status::FromErrno(errno, "removing " + path);
  }
  if (S_ISDIR(st.st_mode)) return RemoveDirectoryTree(top.get(), base, path);
  if (unlinkat(top.get(), base.c_str(), 0) != 0 && errno != ENOENT) {
    return Status::FromErrno(errno, "removing " + path);
  }
  return Status::Ok();
}

}  // namespace xfer
