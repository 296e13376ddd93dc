#include "staging_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE, RENAME_EXCHANGE
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
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

// ---- RemoveTree ----
// Whatever the depth, the walk holds at most three descriptors: the root's parent, the current
// directory, and briefly a child or a listing. It keeps names, not fds, for the way back up and
// climbs with openat(fd, ".."), checking that it arrives where it came from. So trees deeper
// than PATH_MAX or RLIMIT_NOFILE are fine.

// One directory on the path from the root of the tree down to where the walk is.
struct Level {
  std::string name;  // its name in the level above
  dev_t dev;
  ino_t ino;
  std::vector<std::string> subdirs;  // not yet descended into
};

// The path of levels[1..] below root (for messages only; it may exceed PATH_MAX).
std::string Describe(const std::string& root, const std::vector<Level>& levels,
                     const std::string& last = "") {
  std::string path = root;
  for (size_t i = 1; i < levels.size(); ++i) path = JoinPath(path, levels[i].name);
  return last.empty() ? path : JoinPath(path, last);
}

// Opens parent/name as a directory without following a symlink, and makes it readable, writable
// and searchable by us: a transfer may have left a 0000 or 0500 directory that must still go.
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

// Unlinks every non-directory entry of the deepest level (open as dir_fd) and records its
// subdirectories there. The listing is read to the end before anything is unlinked, because
// removing entries while readdir() walks a directory may make it skip others on some filesystems.
// Paths for messages are built only on failure: they grow with the depth.
Status UnlinkFilesListDirs(int dir_fd, const std::string& root, std::vector<Level>* levels) {
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
  std::vector<std::string>* subdirs = &levels->back().subdirs;
  for (auto& [name, type] : entries) {
    if (type == DT_DIR) {
      subdirs->push_back(std::move(name));
    } else if (unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
      // EISDIR: d_type was DT_UNKNOWN (some filesystems) or a directory took the name meanwhile.
      if (errno != EISDIR) return Status::FromErrno(errno, "removing " + where(name));
      subdirs->push_back(std::move(name));
    }
  }
  return Status::Ok();
}

// Removes top/base, known to have been a directory, and everything below it.
Status RemoveDirectoryTree(int top, const std::string& base, const std::string& path) {
  struct stat st;
  UniqueFd cur;
  if (int err = OpenForRemoval(top, base, &cur, &st)) {
    if (err == ENOENT) return Status::Ok();
    if ((err == ELOOP || err == ENOTDIR) &&
        (unlinkat(top, base.c_str(), 0) == 0 || errno == ENOENT)) {
      return Status::Ok();  // replaced by a file or symlink since we looked: that goes instead
    }
    return Status::FromErrno(err, "removing " + path);
  }
  std::vector<Level> levels;
  levels.push_back({base, st.st_dev, st.st_ino, {}});
  XFER_RETURN_IF_ERROR(UnlinkFilesListDirs(cur.get(), path, &levels));
  for (;;) {
    if (!levels.back().subdirs.empty()) {
      std::string name = std::move(levels.back().subdirs.back());
      levels.back().subdirs.pop_back();
      UniqueFd child;
      int err = OpenForRemoval(cur.get(), name, &child, &st);
      if (err == ENOENT) continue;
      if (err == ELOOP || err == ENOTDIR) {  // replaced by a file or symlink since it was listed
        if (unlinkat(cur.get(), name.c_str(), 0) == 0 || errno == ENOENT) continue;
        err = errno;
      }
      if (err != 0) return Status::FromErrno(err, "removing " + Describe(path, levels, name));
      if (IsMountRoot(child.get(), st, levels.front().dev)) {
        return Status(Code::kIoError, "not removing " + Describe(path, levels, name) +
                                          ": a filesystem is mounted there");
      }
      levels.push_back({std::move(name), st.st_dev, st.st_ino, {}});
      cur = std::move(child);
      XFER_RETURN_IF_ERROR(UnlinkFilesListDirs(cur.get(), path, &levels));
      continue;
    }
    if (levels.size() == 1) break;
    // The current directory is empty: climb to its parent, make sure it is the one we came
    // from (the tree was not moved under us), and remove the current one from there.
    UniqueFd parent(openat(cur.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!parent.valid() || fstat(parent.get(), &st) != 0) {
      return Status::FromErrno(errno, "climbing out of " + Describe(path, levels));
    }
    const Level& above = levels[levels.size() - 2];
    if (st.st_dev != above.dev || st.st_ino != above.ino) {
      return Status(Code::kIoError, Describe(path, levels) + " was moved while being removed");
    }
    std::string name = std::move(levels.back().name);
    levels.pop_back();
    cur = std::move(parent);
    if (unlinkat(cur.get(), name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      return Status::FromErrno(errno, "removing " + Describe(path, levels, name));
    }
  }
  cur.reset();
  if (unlinkat(top, base.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return Status::FromErrno(errno, "removing " + path);
  }
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

}  // namespace

StagingDir::~StagingDir() { Remove(); }

StagingDir::StagingDir(StagingDir&& other) noexcept
    : dest_dir_(std::move(other.dest_dir_)), path_(std::exchange(other.path_, {})) {}

StagingDir& StagingDir::operator=(StagingDir&& other) noexcept {
  if (this != &other) {
    Remove();
    dest_dir_ = std::move(other.dest_dir_);
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

Status StagingDir::Create(const std::string& dest_dir, StagingDir* out) {
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
  std::unique_ptr<char, void (*)(void*)> real(realpath(dest_dir.c_str(), nullptr), free);
  if (!real) return Status::FromErrno(errno, "resolving destination " + dest_dir);
  std::string suffix;
  XFER_RETURN_IF_ERROR(RandomHex(kRandomBytes, &suffix));
  StagingDir staging;
  staging.dest_dir_ = real.get();
  std::string path = JoinPath(staging.dest_dir_, kStagingPrefix + suffix);
  if (mkdir(path.c_str(), 0700) != 0) {
    return Status::FromErrno(errno, "creating staging directory " + path);
  }
  staging.path_ = std::move(path);
  *out = std::move(staging);
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
  Status removed = RemoveTree(staging_path);
  if (!removed.ok()) {
    return removed.WithContext("every entry is in place in " + dest_dir_ +
                               ", but the staging directory could not be removed");
  }
  return Status::Ok();
}

void StagingDir::Remove() {
  if (path_.empty()) return;
  try {
    // Nowhere to report to from a destructor; the worst case is a leftover hidden directory.
    Status ignored = RemoveTree(path_);
    (void)ignored;
  } catch (...) {  // std::bad_alloc: never let it out of a destructor
  }
  path_.clear();
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
