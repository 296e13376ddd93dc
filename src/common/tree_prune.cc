// RemoveTree, PruneTreeAt and EmptyTreeAt: one walk over a tree that removes what it is told to.
#include "tree_prune.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <utility>
#include <vector>

#include "fs_util.h"

namespace xfer {

namespace {

// Whatever the depth, a walk holds at most three descriptors: the root's parent, the current
// directory, and briefly a child or a listing. It keeps names, not fds, for the way back up and
// climbs with openat(fd, ".."), checking that it arrives where it came from. So trees deeper
// than PATH_MAX or RLIMIT_NOFILE are fine.

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

// "." of dir_fd: a descriptor of its own for the walk, which moves it up and down.
Status WalkBelow(int dir_fd, const std::string& shown, bool remove_all, const Judge& judge) {
  struct stat st;
  UniqueFd root;
  if (int err = OpenForRemoval(dir_fd, ".", &root, &st)) {
    return Status::FromErrno(err, "opening " + shown);
  }
  return WalkTree(std::move(root), st, shown, remove_all, judge);
}

}  // namespace

Status PruneTreeAt(int dir_fd, const std::string& shown, const Judge& judge) {
  return WalkBelow(dir_fd, shown, /*remove_all=*/false, judge);
}

Status EmptyTreeAt(int dir_fd, const std::string& shown) {
  return WalkBelow(dir_fd, shown, /*remove_all=*/true, Judge());
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
