#include "archive_disk_path.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "entry_path.h"

namespace xfer {

namespace {

// Names shorter than this go to libarchive as they are. Below PATH_MAX with a margin, so that no
// name libarchive derives from it (it appends nothing today) can reach the limit.
constexpr size_t kDirectNameLimit = PATH_MAX - 256;

// O_PATH: enough to resolve names under it, and needs no read permission on the directory.
constexpr int kDirFlags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

std::vector<std::string> Components(const std::string& rel) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    if (end > start) out.push_back(rel.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& components, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) out += '/';
    out += components[i];
  }
  return out;
}

Status ThroughSymlink(const std::string& rel, const std::string& link) {
  return Status(Code::kUnsafe, "refusing entry '" + EscapeForMessage(rel) +
                                   "': it would be written through the symlink '" +
                                   EscapeForMessage(link) + "'");
}

// openat2 beneath dir_fd, through no symlink at all; -1 with errno (ENOSYS before Linux 5.6).
int OpenBeneath(int dir_fd, const std::string& rel) {
  struct open_how how = {};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(syscall(SYS_openat2, dir_fd, rel.c_str(), &how, sizeof how));
}

}  // namespace

Status DiskPaths::Resolve(const std::string& rel, bool replace_final_symlink, std::string* out) {
  const size_t slash = rel.rfind('/');
  const std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  const std::string parent_rel = slash == std::string::npos ? "" : rel.substr(0, slash);
  std::string direct = anchor_ + "/" + rel;
  const bool deep = direct.size() >= kDirectNameLimit;
  const bool checked = checked_parent_valid_ && checked_parent_ == parent_rel;
  if (checked && !deep && !replace_final_symlink) {
    *out = std::move(direct);
    return Status::Ok();
  }
  UniqueFd parent;
  XFER_RETURN_IF_ERROR(OpenParent(rel, &parent));
  checked_parent_ = parent_rel;
  checked_parent_valid_ = true;
  struct stat st;
  if (replace_final_symlink && fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISLNK(st.st_mode) && unlinkat(parent.get(), name.c_str(), 0) != 0) {
    return Status::FromErrno(errno, "writing " + EscapeForMessage(rel));
  }
  if (!deep) {
    *out = std::move(direct);
    return Status::Ok();
  }
  *out = ProcFdPath(Hold(std::move(parent))) + "/" + name;
  return Status::Ok();
}

Status DiskPaths::OpenParent(const std::string& rel, UniqueFd* out) {
  const size_t slash = rel.rfind('/');
  if (slash == std::string::npos) {
    out->reset(openat(staging_fd_, ".", kDirFlags));
    if (!out->valid()) return Status::FromErrno(errno, "opening the staging directory");
    return Status::Ok();
  }
  UniqueFd parent(OpenBeneath(staging_fd_, rel.substr(0, slash)));
  if (parent.valid()) {
    *out = std::move(parent);
    return Status::Ok();
  }
  // ELOOP or EXDEV (a symlink, or a way out), ENOENT (to be created), ENAMETOOLONG (deeper than
  // PATH_MAX), ENOSYS (no openat2): the walk creates what is missing and names what refused.
  return WalkToParent(Components(rel), out);
}

Status DiskPaths::WalkToParent(const std::vector<std::string>& components, UniqueFd* out) {
  UniqueFd dir(openat(staging_fd_, ".", kDirFlags));
  if (!dir.valid()) return Status::FromErrno(errno, "opening the staging directory");
  for (size_t i = 0; i + 1 < components.size(); ++i) {
    const char* name = components[i].c_str();
    UniqueFd next(openat(dir.get(), name, kDirFlags));
    if (!next.valid() && errno == ENOENT) {
      // As libarchive does for a missing parent: create it; its own entry, if the stream has
      // one later, sets its metadata.
      if (mkdirat(dir.get(), name, 0755) != 0 && errno != EEXIST) {
        return Status::FromErrno(errno, "creating " + EscapeForMessage(Join(components, i + 1)));
      }
      next.reset(openat(dir.get(), name, kDirFlags));
    }
    if (!next.valid()) {
      int err = errno;
      struct stat st;
      if (fstatat(dir.get(), name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
        return ThroughSymlink(Join(components, components.size()), Join(components, i + 1));
      }
      return Status::FromErrno(err, "opening " + EscapeForMessage(Join(components, i + 1)));
    }
    dir = std::move(next);
  }
  *out = std::move(dir);
  return Status::Ok();
}

int DiskPaths::Hold(UniqueFd dir) {
  struct stat st;
  if (fstat(dir.get(), &st) != 0) {
    held_.push_back(std::move(dir));
    return held_.back().get();
  }
  auto [it, inserted] = held_by_inode_.emplace(std::make_pair(st.st_dev, st.st_ino), dir.get());
  if (inserted) held_.push_back(std::move(dir));
  return it->second;
}

}  // namespace xfer
