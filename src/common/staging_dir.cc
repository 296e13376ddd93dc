#include "staging_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE, RENAME_EXCHANGE
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
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

Status OpenDirectory(const std::string& path, UniqueFd* out) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(errno, "opening " + path);
  *out = std::move(fd);
  return Status::Ok();
}

std::string BaseName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// A staging directory is ours when nobody else can have put anything in it: owned by our
// effective uid and 0700. Whatever else sits under a staging name is someone else's.
Status CheckOurs(const struct stat& st, const std::string& path) {
  if (!S_ISDIR(st.st_mode)) return Status(Code::kUnsafe, path + " is not a directory");
  if (st.st_uid != geteuid()) {
    return Status(Code::kUnsafe, path + " is owned by uid " + std::to_string(st.st_uid) +
                                     ", not by this receiver's uid " + std::to_string(geteuid()));
  }
  if ((st.st_mode & 07777) != 0700) {
    char mode[8];
    snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status(Code::kUnsafe, path + " has mode " + mode + ", not 0700");
  }
  return Status::Ok();
}

// Opens dest_fd/name as a directory without following a symlink, and checks it is ours. Nothing
// there is no error: *out stays closed.
Status OpenOursAt(int dest_fd, const std::string& name, const std::string& path, UniqueFd* out) {
  UniqueFd fd(openat(dest_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return Status::Ok();
    if (errno == ELOOP || errno == ENOTDIR) {
      return Status(Code::kUnsafe, path + " is not a directory");
    }
    return Status::FromErrno(errno, "opening staging directory " + path);
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, "checking " + path);
  XFER_RETURN_IF_ERROR(CheckOurs(st, path));
  *out = std::move(fd);
  return Status::Ok();
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
  UniqueFd dir;
  XFER_RETURN_IF_ERROR(OpenDirectory(dest_dir, &dir));
  std::vector<std::string> names;
  XFER_RETURN_IF_ERROR(ListNames(dir.get(), dest_dir, &names));
  for (const std::string& name : names) {
    std::string staging_name;
    if (StagingNameOfJournal(name, &staging_name))
      staging_names->push_back(std::move(staging_name));
  }
  return Status::Ok();
}

// Removes the staging tree open as fd (none: -1), found at dest_fd/BaseName(path), and then its
// journal, whose lock the caller holds. The tree is emptied through its descriptor, and its name
// removed only while it still names that directory: what someone put there instead is theirs.
// The journal goes only once the tree is gone: a tree without its journal would be left alone
// by every later run.
Status RemoveStaging(int dest_fd, int fd, const std::string& path) {
  const std::string name = BaseName(path);
  if (fd >= 0) {
    XFER_RETURN_IF_ERROR(EmptyTreeAt(fd, path));
    struct stat ours, there;
    if (fstat(fd, &ours) == 0 && fstatat(dest_fd, name.c_str(), &there, AT_SYMLINK_NOFOLLOW) == 0 &&
        ours.st_dev == there.st_dev && ours.st_ino == there.st_ino &&
        unlinkat(dest_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      return Status::FromErrno(errno, "removing " + path);
    }
  }
  const std::string journal = name + kJournalSuffix;
  if (unlinkat(dest_fd, journal.c_str(), 0) != 0 && errno != ENOENT) {
    return Status::FromErrno(errno, "removing " + JournalPath(path));
  }
  return Status::Ok();
}

// A staging directory left by an earlier transfer, its journal now locked by us.
struct Leftover {
  std::string path;  // the staging directory
  UniqueFd fd;       // open, ours; none after a crash between creating the journal and the dir
  ResumeJournal journal;
  HeldFiles held;
};

// What ClaimLeftovers found: dest_dir open, and the leftovers that are ours, their journals
// locked.
struct Claimed {
  UniqueFd dest_fd;
  std::vector<Leftover> leftovers;
};

// Locks the journals in dest_dir (resolved) labelled with exactly `names` that no live receiver
// holds, of the leftovers that are ours; the others are named in *foreign (may be null).
Status ClaimLeftovers(const std::string& dest_dir, const std::vector<std::string>& names,
                      Claimed* out, std::vector<std::string>* foreign) {
  XFER_RETURN_IF_ERROR(OpenDirectory(dest_dir, &out->dest_fd));
  std::vector<std::string> staging_names;
  XFER_RETURN_IF_ERROR(ListJournaled(dest_dir, &staging_names));
  for (const std::string& staging_name : staging_names) {
    Leftover leftover{JoinPath(dest_dir, staging_name), {}, {}, {}};
    const std::string journal = JournalPath(leftover.path);
    auto leave_alone = [&](const Status& why) {
      if (foreign != nullptr) {
        foreign->push_back("leaving " + leftover.path + " alone: " + why.message());
      }
    };
    // The names first, without the lock: what has no intact header is not a journal of ours, or
    // one being created, whose creator must be the one to lock it.
    std::vector<std::string> labelled;
    Status read = ResumeJournal::ReadNames(journal, &labelled);
    if (read.code() == Code::kUnsafe) leave_alone(read);
    if (!read.ok() || labelled != names) continue;
    Status status = ResumeJournal::Open(journal, &leftover.journal, &labelled, &leftover.held);
    if (status.code() == Code::kExists) continue;  // a live receiver's
    if (status.code() == Code::kUnsafe) {
      leave_alone(status);
      continue;
    }
    XFER_RETURN_IF_ERROR(status);
    status = OpenOursAt(out->dest_fd.get(), staging_name, leftover.path, &leftover.fd);
    if (status.code() == Code::kUnsafe) {
      leave_alone(status);
      continue;
    }
    XFER_RETURN_IF_ERROR(status);
    out->leftovers.push_back(std::move(leftover));
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
    if (leftover.fd.valid() &&
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
Status PruneToHeld(const Leftover& leftover, ResumeJournal* journal, HeldFiles* held,
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
  XFER_RETURN_IF_ERROR(PruneTreeAt(leftover.fd.get(), leftover.path, judge));
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

StagingDir::StagingDir(StagingDir&& other) noexcept { *this = std::move(other); }

StagingDir& StagingDir::operator=(StagingDir&& other) noexcept {
  if (this != &other) {
    if (!keep_) Remove();
    dest_dir_ = std::move(other.dest_dir_);
    path_ = std::exchange(other.path_, {});
    dest_fd_ = std::move(other.dest_fd_);
    fd_ = std::move(other.fd_);
    anchor_ = std::exchange(other.anchor_, {});
    journal_ = std::move(other.journal_);
    keep_ = std::exchange(other.keep_, false);
  }
  return *this;
}

Status StagingDir::Create(const std::string& dest_dir, const std::vector<std::string>& names,
                          StagingDir* out) {
  StagingDir staging;
  XFER_RETURN_IF_ERROR(ResolveDestDir(dest_dir, &staging.dest_dir_));
  XFER_RETURN_IF_ERROR(OpenDirectory(staging.dest_dir_, &staging.dest_fd_));
  std::string suffix;
  XFER_RETURN_IF_ERROR(RandomHex(kRandomBytes, &suffix));
  const std::string name = kStagingPrefix + suffix;
  std::string path = JoinPath(staging.dest_dir_, name);
  // The journal first: a crash before the mkdir then leaves a journal that names its transfer,
  // which a later run of it removes, rather than an unlabelled directory that nobody removes.
  XFER_RETURN_IF_ERROR(ResumeJournal::Create(JournalPath(path), names, &staging.journal_));
  Status status;
  if (mkdirat(staging.dest_fd_.get(), name.c_str(), 0700) != 0) {
    status = Status::FromErrno(errno, "creating staging directory " + path);
  } else if (fchmodat(staging.dest_fd_.get(), name.c_str(), 0700, 0) != 0) {  // whatever the umask
    status = Status::FromErrno(errno, "creating staging directory " + path);
  } else {
    // Checked once opened: another user who can rename entries in dest_dir may have put
    // something else at the name in between.
    status = OpenOursAt(staging.dest_fd_.get(), name, path, &staging.fd_);
    if (status.ok() && !staging.fd_.valid()) {
      status = Status(Code::kIoError, "staging directory " + path + " vanished once created");
    }
  }
  if (!status.ok()) {
    unlinkat(staging.dest_fd_.get(), (name + kJournalSuffix).c_str(), 0);
    staging.journal_ = ResumeJournal();
    return status;
  }
  staging.anchor_ = ProcFdPath(staging.fd_.get());
  staging.path_ = std::move(path);
  *out = std::move(staging);
  return Status::Ok();
}

Status StagingDir::Adopt(const std::string& dest_dir, const std::vector<std::string>& names,
                         StagingDir* out, HeldFiles* held, uint64_t* held_allocated,
                         std::vector<std::string>* foreign) {
  held->clear();
  *held_allocated = 0;
  std::string real;
  XFER_RETURN_IF_ERROR(ResolveDestDir(dest_dir, &real));
  Claimed claimed;
  XFER_RETURN_IF_ERROR(ClaimLeftovers(real, names, &claimed, foreign));
  Leftover* best = BestLeftover(&claimed.leftovers);
  for (Leftover& leftover : claimed.leftovers) {
    if (&leftover != best) {
      XFER_RETURN_IF_ERROR(RemoveStaging(claimed.dest_fd.get(), leftover.fd.get(), leftover.path));
    }
  }
  if (best == nullptr) return Status::Ok();
  XFER_RETURN_IF_ERROR(PruneToHeld(*best, &best->journal, &best->held, held_allocated));
  StagingDir staging;
  staging.dest_dir_ = std::move(real);
  staging.path_ = std::move(best->path);
  staging.dest_fd_ = std::move(claimed.dest_fd);
  staging.fd_ = std::move(best->fd);
  staging.anchor_ = ProcFdPath(staging.fd_.get());
  staging.journal_ = std::move(best->journal);
  *held = std::move(best->held);
  *out = std::move(staging);
  return Status::Ok();
}

Status StagingDir::HeldAllocated(const std::string& dest_dir, const std::vector<std::string>& names,
                                 uint64_t* allocated) {
  *allocated = 0;
  std::string resolved;
  XFER_RETURN_IF_ERROR(ResolveDestDir(dest_dir, &resolved));
  Claimed claimed;
  XFER_RETURN_IF_ERROR(ClaimLeftovers(resolved, names, &claimed, nullptr));
  const Leftover* best = BestLeftover(&claimed.leftovers);
  if (best == nullptr) return Status::Ok();
  for (const auto& [path, file] : best->held) {
    if (file.have < file.size) continue;  // a held prefix is copied: it needs its room again
    struct stat st;
    if (fstatat(best->fd.get(), path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(st.st_mode)) {
      *allocated += static_cast<uint64_t>(st.st_blocks) * 512;
    }
  }
  return Status::Ok();
}

Status StagingDir::RemoveStale(const std::string& dest_dir, const std::vector<std::string>& names,
                               Discarded* discarded, std::vector<std::string>* foreign) {
  *discarded = Discarded();
  std::string real;
  XFER_RETURN_IF_ERROR(ResolveDestDir(dest_dir, &real));
  Claimed claimed;
  XFER_RETURN_IF_ERROR(ClaimLeftovers(real, names, &claimed, foreign));
  for (const Leftover& leftover : claimed.leftovers) {
    XFER_RETURN_IF_ERROR(RemoveStaging(claimed.dest_fd.get(), leftover.fd.get(), leftover.path));
    ++discarded->dirs;
    discarded->files += leftover.held.size();
    discarded->bytes += VouchedBytes(leftover.held);
  }
  return Status::Ok();
}

Status StagingDir::Sync() const {
  if (path_.empty()) return Status(Code::kInvalidArgument, "no staging directory to sync");
  // One syncfs flushes every file and directory written under the staging directory; see
  // bench/README-sync.md for why not an fsync of each.
  if (syncfs(fd_.get()) != 0) return Status::FromErrno(errno, "syncing filesystem of " + path_);
  return Status::Ok();
}

Status StagingDir::Commit(const std::vector<std::string>& names, bool overwrite,
                          std::string* leftover) {
  if (path_.empty()) return Status(Code::kInvalidArgument, "no staging directory to commit");
  XFER_RETURN_IF_ERROR(CheckNames(names));

  // Check everything that can be checked before the first rename, so that a refusal leaves the
  // destination as it was.
  for (const std::string& name : names) {
    struct stat st;
    if (fstatat(fd_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Status::FromErrno(errno, "staged entry " + JoinPath(path_, name));
    }
  }
  if (!overwrite) XFER_RETURN_IF_ERROR(CheckAbsentAt(dest_fd_.get(), dest_dir_, names));

  std::vector<std::string> moved;
  for (const std::string& name : names) {
    Status status = MoveIntoPlace(fd_.get(), dest_fd_.get(), dest_dir_, name, overwrite);
    if (!status.ok()) return Status(status.code(), status.message() + MovedSoFar(moved));
    moved.push_back(name);
  }
  // The renames are entries of dest_dir: durable only once dest_dir itself is synced.
  if (fsync(dest_fd_.get()) != 0) {
    return Status::FromErrno(errno, "syncing " + dest_dir_ + " after moving every entry into it");
  }

  // Committed: from here on the destructor must not touch anything. What is left in the staging
  // directory is only what overwrite swapped out.
  std::string staging_path = std::exchange(path_, {});
  anchor_.clear();
  Status removed = RemoveStaging(dest_fd_.get(), fd_.get(), staging_path);
  fd_.reset();
  dest_fd_.reset();
  journal_ = ResumeJournal();
  if (!removed.ok() && leftover != nullptr) {
    *leftover = "every entry is in place in " + dest_dir_ + ", but " + staging_path +
                " could not be removed: " + removed.message();
  }
  return Status::Ok();
}

Status StagingDir::ListEntries(std::vector<std::string>* names) const {
  XFER_RETURN_IF_ERROR(ListNames(fd_.get(), path_, names));
  std::sort(names->begin(), names->end());
  return Status::Ok();
}

Status StagingDir::PruneExcept(const PathDigestSet& wanted) {
  if (path_.empty()) return Status(Code::kInvalidArgument, "no staging directory to prune");
  return PruneTreeAt(fd_.get(), path_, [&wanted](const std::string& rel, const struct stat&) {
    return wanted.contains(PathDigest(rel)) ? Fate::kKeep : Fate::kRemove;
  });
}

void StagingDir::Remove() {
  if (path_.empty()) return;
  try {
    // Nowhere to report to from a destructor; the worst case is a leftover hidden directory,
    // which a later run of the same transfer removes as long as its journal is there.
    Status ignored = RemoveStaging(dest_fd_.get(), fd_.get(), path_);
    (void)ignored;
  } catch (...) {  // std::bad_alloc: never let it out of a destructor
  }
  path_.clear();
  anchor_.clear();
  fd_.reset();
  dest_fd_.reset();
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

}  // namespace xfer
