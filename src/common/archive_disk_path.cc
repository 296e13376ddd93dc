#include "archive_disk_path.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "entry_path.h"

namespace xfer {

namespace {

// Names shorter than this go to libarchive as they are. Below PATH_MAX with a margin, so that no
// name libarchive derives from it (it appends nothing today) can reach the limit.
constexpr size_t kDirectNameLimit = PATH_MAX - 256;

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

}  // namespace

Status DiskPaths::Resolve(const std::string& rel, bool replace_final_symlink, std::string* out) {
  std::string direct = staging_dir_ + "/" + rel;
  if (direct.size() < kDirectNameLimit) {
    struct stat st;
    if (replace_final_symlink && lstat(direct.c_str(), &st) == 0 && S_ISLNK(st.st_mode) &&
        unlink(direct.c_str()) != 0) {
      return Status::FromErrno(errno, "writing " + EscapeForMessage(rel));
    }
    *out = std::move(direct);
    return Status::Ok();
  }
  std::vector<std::string> components = Components(rel);
  int parent = -1;
  XFER_RETURN_IF_ERROR(OpenParent(components, &parent));
  const std::string& name = components.back();
  struct stat st;
  if (replace_final_symlink && fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISLNK(st.st_mode) && unlinkat(parent, name.c_str(), 0) != 0) {
    return Status::FromErrno(errno, "writing " + EscapeForMessage(rel));
  }
  *out = "/proc/self/fd/" + std::to_string(parent) + "/" + name;
  return Status::Ok();
}

Status DiskPaths::OpenParent(const std::vector<std::string>& components, int* fd) {
  // O_PATH: enough to resolve names under it, and needs no read permission on the directory.
  constexpr int kFlags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  UniqueFd dir(open(staging_dir_.c_str(), kFlags));
  if (!dir.valid()) return Status::FromErrno(errno, "opening " + staging_dir_);
  for (size_t i = 0; i + 1 < components.size(); ++i) {
    const char* name = components[i].c_str();
    UniqueFd next(openat(dir.get(), name, kFlags));
    if (!next.valid() && errno == ENOENT) {
      // As libarchive does for a missing parent: create it; its own entry, if the stream has
      // one later, sets its metadata.
      if (mkdirat(dir.get(), name, 0755) != 0 && errno != EEXIST) {
        return Status::FromErrno(errno, "creating " + EscapeForMessage(Join(components, i + 1)));
      }
      next.reset(openat(dir.get(), name, kFlags));
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
  struct stat st;
  if (fstat(dir.get(), &st) != 0) return Status::FromErrno(errno, "opening a directory");
  auto [it, inserted] = held_by_inode_.emplace(std::make_pair(st.st_dev, st.st_ino), dir.get());
  if (inserted) held_.push_back(std::move(dir));
  *fd = it->second;
  return Status::Ok();
}

}  // namespace xfer
