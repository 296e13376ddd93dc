#include "archive_source_walk.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "entry_path.h"
#include "fs_util.h"

namespace xfer {

namespace {

// Splits a path without trailing slashes into parent and basename.
void SplitPath(const std::string& path, std::string* parent, std::string* name) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    *parent = ".";
    *name = path;
  } else {
    *parent = slash == 0 ? "/" : path.substr(0, slash);
    *name = path.substr(slash + 1);
  }
}

Status ResolveOne(const std::string& given, SourceTop* top) {
  if (given.empty()) return Status(Code::kInvalidArgument, "empty source path");
  std::string path = given;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  SplitPath(path, &top->parent, &top->name);
  if (top->name == "." || top->name == "..") {
    // "." has no name of its own to store; the directory's real name is the useful one.
    std::unique_ptr<char, decltype(&free)> real(realpath(path.c_str(), nullptr), free);
    if (!real) return Status::FromErrno(errno, EscapeForMessage(given));
    SplitPath(real.get(), &top->parent, &top->name);
  }
  if (path == "/" || top->name.empty()) {
    return Status(Code::kInvalidArgument,
                  "cannot send '" + EscapeForMessage(given) + "': it has no name to store");
  }
  top->given = given;
  return Status::Ok();
}

// Reads the names in dir_fd (without "." and ".."), sorted bytewise.
Status ListDirectory(int dir_fd, const std::string& shown, std::vector<std::string>* names) {
  XFER_RETURN_IF_ERROR(ListNames(dir_fd, shown, names));
  std::sort(names->begin(), names->end());
  return Status::Ok();
}

class Walker {
 public:
  Walker(const CancelToken* cancel, const WalkVisitor& visit) : cancel_(cancel), visit_(visit) {}

  // top_shown: how messages name a top (the caller's path); null below the tops, where the
  // stream path is used (escaped only when a message needs it).
  Status Visit(int parent_fd, const std::string& name, const std::string& path,
               const std::string* top_shown) {
    if (cancel_ != nullptr && cancel_->IsCancelled()) return Status(Code::kCancelled, "cancelled");
    auto shown = [&] { return top_shown != nullptr ? *top_shown : EscapeForMessage(path); };
    struct stat st;
    if (fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return Status::FromErrno(errno, top_shown != nullptr ? shown() : "reading " + shown());
    }
    if (!S_ISDIR(st.st_mode)) return visit_(WalkEntry{parent_fd, name, path, st, -1});

    UniqueFd dir;
    struct stat dir_st;
    XFER_RETURN_IF_ERROR(OpenWalkedDirectory(parent_fd, name, st, shown(), &dir, &dir_st));
    XFER_RETURN_IF_ERROR(visit_(WalkEntry{parent_fd, name, path, dir_st, dir.get()}));

    std::vector<std::string> children;
    XFER_RETURN_IF_ERROR(ListDirectory(dir.get(), shown(), &children));
    std::string child_path = path + "/";
    for (const std::string& child : children) {
      child_path.resize(path.size() + 1);
      child_path += child;
      XFER_RETURN_IF_ERROR(Visit(dir.get(), child, child_path, nullptr));
    }
    return Status::Ok();
  }

 private:
  const CancelToken* cancel_;
  const WalkVisitor& visit_;
};

}  // namespace

bool StreamOrderLess(const std::string& a, const std::string& b) {
  // Plain bytewise order, except that '/' sorts before every other byte: then a path comes
  // right before its own descendants, and siblings compare by their names alone.
  size_t common = std::min(a.size(), b.size());
  for (size_t i = 0; i < common; ++i) {
    if (a[i] == b[i]) continue;
    if (a[i] == '/') return true;
    if (b[i] == '/') return false;
    return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
  }
  return a.size() < b.size();
}

Status OpenWalkedDirectory(int parent_fd, const std::string& name, const struct stat& st,
                           const std::string& shown, UniqueFd* dir, struct stat* dir_st) {
  auto changed = [&] { return Status(Code::kIoError, shown + " was replaced while being read"); };
  UniqueFd opened(openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!opened.valid()) {
    if (errno == ELOOP || errno == ENOTDIR) return changed();
    return Status::FromErrno(errno, "reading " + shown);
  }
  if (fstat(opened.get(), dir_st) != 0) return Status::FromErrno(errno, "reading " + shown);
  if (dir_st->st_dev != st.st_dev || dir_st->st_ino != st.st_ino) return changed();
  *dir = std::move(opened);
  return Status::Ok();
}

Status ResolveSourceTops(const std::vector<std::string>& paths, std::vector<SourceTop>* out) {
  if (paths.empty()) return Status(Code::kInvalidArgument, "no source paths given");
  std::vector<SourceTop> tops;
  for (const std::string& path : paths) {
    SourceTop top;
    XFER_RETURN_IF_ERROR(ResolveOne(path, &top));
    for (const SourceTop& earlier : tops) {
      if (earlier.name == top.name) {
        // Both would land on the same name at the destination.
        return Status(Code::kInvalidArgument,
                      "'" + EscapeForMessage(earlier.given) + "' and '" + EscapeForMessage(path) +
                          "' have the same name '" + EscapeForMessage(top.name) + "'");
      }
    }
    tops.push_back(std::move(top));
  }
  *out = std::move(tops);
  return Status::Ok();
}

Status WalkSources(const std::vector<SourceTop>& tops, const CancelToken* cancel,
                   const WalkVisitor& visit) {
  Walker walker(cancel, visit);
  for (const SourceTop& top : tops) {
    UniqueFd parent(open(top.parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!parent.valid()) return Status::FromErrno(errno, EscapeForMessage(top.given));
    std::string shown = EscapeForMessage(top.given);
    XFER_RETURN_IF_ERROR(walker.Visit(parent.get(), top.name, top.name, &shown));
  }
  return Status::Ok();
}

}  // namespace xfer
