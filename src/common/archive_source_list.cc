#include "archive_source_list.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <unordered_set>
#include <utility>

#include "entry_path.h"
#include "fs_util.h"

namespace xfer {

namespace {

std::string Origin(const std::string& origin) { return "files-from " + EscapeForMessage(origin); }

// How messages point at a name: "files-from list.txt line 3".
std::string LineOf(const std::string& origin, size_t line) {
  return Origin(origin) + " line " + std::to_string(line);
}

Status ReadAll(int fd, const std::string& shown, std::string* data) {
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, shown);
    if (n == 0) return Status::Ok();
    data->append(buffer, static_cast<size_t>(n));
  }
}

bool HasDotDotComponent(const std::string& name) {
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = std::min(name.find('/', start), name.size());
    if (name.compare(start, end - start, "..") == 0) return true;
    start = end + 1;
  }
  return false;
}

std::vector<std::string> SplitComponents(const std::string& normalized) {
  std::vector<std::string> components;
  size_t start = 0;
  while (start <= normalized.size()) {
    size_t end = std::min(normalized.find('/', start), normalized.size());
    components.push_back(normalized.substr(start, end - start));
    start = end + 1;
  }
  return components;
}

// Walks the sorted list keeping open the directories from the base down to the last entry's
// parent: sorted, everything under a directory comes together, so each directory is opened (and,
// when not listed itself, sent) once and closed when the walk leaves it.
class ListWalker {
 public:
  ListWalker(const ResolvedFileList& list, const CancelToken* cancel, const WalkVisitor& visit)
      : list_(list), cancel_(cancel), visit_(visit) {}

  Status Run() {
    const std::string base = list_.base_dir.empty() ? "." : list_.base_dir;
    base_.reset(open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!base_.valid()) {
      return Status::FromErrno(errno,
                               Origin(list_.origin) + ": base directory " + EscapeForMessage(base));
    }
    for (const ListedPath& listed : list_.paths) XFER_RETURN_IF_ERROR(Send(listed));
    return Status::Ok();
  }

 private:
  struct OpenDirectory {
    std::string name;
    UniqueFd fd;
  };

  Status Send(const ListedPath& listed) {
    if (cancel_ != nullptr && cancel_->IsCancelled()) return Status(Code::kCancelled, "cancelled");
    const std::vector<std::string> components = SplitComponents(listed.path);
    size_t keep = 0;
    while (keep < open_.size() && keep + 1 < components.size() &&
           open_[keep].name == components[keep]) {
      ++keep;
    }
    open_.erase(open_.begin() + static_cast<ptrdiff_t>(keep), open_.end());
    // The parents still missing are not listed: a listed one came just before its content and
    // is open already. (A listed parent that is not a directory is refused by SendParent.)
    for (size_t k = keep; k + 1 < components.size(); ++k) {
      XFER_RETURN_IF_ERROR(SendParent(listed, components, k));
    }

    const std::string& name = components.back();
    int parent_fd = ParentFd();
    struct stat st;
    if (fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Status::FromErrno(errno, Where(listed) + ": " + listed.given);
    }
    if (!S_ISDIR(st.st_mode)) return visit_(WalkEntry{parent_fd, name, listed.path, st, -1});
    return SendDirectory(listed, parent_fd, name, listed.path, st, listed.given);
  }

  // Sends components[0..k] of the listed path, a directory the list does not name itself.
  Status SendParent(const ListedPath& listed, const std::vector<std::string>& components,
                    size_t k) {
    std::string path = components[0];
    for (size_t i = 1; i <= k; ++i) path += "/" + components[i];
    const std::string& name = components[k];
    int parent_fd = ParentFd();
    struct stat st;
    if (fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Status::FromErrno(errno, Where(listed) + ": " + listed.given);
    }
    if (S_ISLNK(st.st_mode)) {
      return Status(Code::kInvalidArgument, Where(listed) + ": " + listed.given + ": " +
                                                EscapeForMessage(path) +
                                                " is a symlink, which is not followed");
    }
    if (!S_ISDIR(st.st_mode)) {
      return Status::FromErrno(ENOTDIR, Where(listed) + ": " + listed.given);
    }
    return SendDirectory(listed, parent_fd, name, path, st, EscapeForMessage(path));
  }

  // Opens a directory, sends it and keeps it open for what the list names under it.
  Status SendDirectory(const ListedPath& listed, int parent_fd, const std::string& name,
                       const std::string& path, const struct stat& st, const std::string& shown) {
    OpenDirectory dir{name, UniqueFd()};
    struct stat dir_st;
    Status opened = OpenWalkedDirectory(parent_fd, name, st, shown, &dir.fd, &dir_st);
    if (!opened.ok()) return opened.WithContext(Where(listed));
    XFER_RETURN_IF_ERROR(visit_(WalkEntry{parent_fd, name, path, dir_st, dir.fd.get()}));
    open_.push_back(std::move(dir));
    return Status::Ok();
  }

  int ParentFd() const { return open_.empty() ? base_.get() : open_.back().fd.get(); }
  std::string Where(const ListedPath& listed) const { return LineOf(list_.origin, listed.line); }

  const ResolvedFileList& list_;
  const CancelToken* cancel_;
  const WalkVisitor& visit_;
  UniqueFd base_;
  std::vector<OpenDirectory> open_;  // open_[k]: the directory of components 0..k
};

}  // namespace

Status ReadFileList(const std::string& path, bool nul_separated, FileList* out) {
  FileList list;
  list.origin = path == "-" ? "stdin" : path;
  std::string data;
  if (path == "-") {
    XFER_RETURN_IF_ERROR(ReadAll(STDIN_FILENO, Origin(list.origin), &data));
  } else {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return Status::FromErrno(errno, Origin(list.origin));
    XFER_RETURN_IF_ERROR(ReadAll(fd.get(), Origin(list.origin), &data));
  }
  const char separator = nul_separated ? '\0' : '\n';
  size_t start = 0;
  while (start < data.size()) {
    size_t end = std::min(data.find(separator, start), data.size());
    list.names.push_back(data.substr(start, end - start));
    start = end + 1;
  }
  *out = std::move(list);
  return Status::Ok();
}

Status ResolveFileList(const FileList& list, ResolvedFileList* out) {
  ResolvedFileList resolved;
  resolved.base_dir = list.base_dir;
  resolved.origin = list.origin;
  std::unordered_set<std::string> tops_seen;
  for (size_t i = 0; i < list.names.size(); ++i) {
    const std::string& name = list.names[i];
    if (name.empty()) continue;
    ListedPath listed{"", EscapeForMessage(name), i + 1};
    auto refuse = [&](const char* why) {
      return Status(Code::kInvalidArgument,
                    LineOf(list.origin, listed.line) + ": " + listed.given + ": " + why);
    };
    // Without -0 a NUL can only be in a name by mistake, and the system could not take it.
    if (name.find('\0') != std::string::npos) return refuse("contains a NUL byte");
    if (name.front() == '/') {
      return refuse("absolute names are refused: names are relative to the base directory");
    }
    if (HasDotDotComponent(name)) return refuse("'..' components are refused");
    listed.path = NormalizeEntryPath(name);
    if (listed.path.empty()) continue;  // the base directory itself: no name in the stream
    std::string top(FirstComponent(listed.path));
    if (tops_seen.insert(top).second) resolved.top_names.push_back(std::move(top));
    resolved.paths.push_back(std::move(listed));
  }
  if (resolved.paths.empty()) {
    return Status(Code::kInvalidArgument, Origin(list.origin) + ": the list names nothing to send");
  }
  // Stable: of a path listed twice, the first line stays, and it is the one messages name.
  std::stable_sort(
      resolved.paths.begin(), resolved.paths.end(),
      [](const ListedPath& a, const ListedPath& b) { return StreamOrderLess(a.path, b.path); });
  auto duplicates =
      std::unique(resolved.paths.begin(), resolved.paths.end(),
                  [](const ListedPath& a, const ListedPath& b) { return a.path == b.path; });
  resolved.paths.erase(duplicates, resolved.paths.end());
  *out = std::move(resolved);
  return Status::Ok();
}

Status WalkFileList(const ResolvedFileList& list, const CancelToken* cancel,
                    const WalkVisitor& visit) {
  return ListWalker(list, cancel, visit).Run();
}

}  // namespace xfer
