#include "tree_compare.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <utility>

#include "entry_path.h"  // EscapeForMessage

namespace xfer::testing {

namespace {

// A descriptor that closes itself.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

std::string Octal(unsigned value) {
  std::ostringstream out;
  out << "0" << std::oct << value;
  return out.str();
}

std::string Time(const struct timespec& t) {
  char ns[16];
  snprintf(ns, sizeof ns, "%09ld", t.tv_nsec);
  return std::to_string(t.tv_sec) + "." + ns;
}

const char* TypeName(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "file";
    case S_IFDIR:
      return "directory";
    case S_IFLNK:
      return "symlink";
    case S_IFIFO:
      return "fifo";
    case S_IFCHR:
      return "char device";
    case S_IFBLK:
      return "block device";
    case S_IFSOCK:
      return "socket";
    default:
      return "unknown";
  }
}

std::vector<std::string> List(int dir_fd, bool* ok) {
  std::vector<std::string> names;
  int dup_fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  std::unique_ptr<DIR, int (*)(DIR*)> dir(fdopendir(dup_fd), closedir);
  *ok = dir != nullptr;
  if (!dir) return names;
  while (const dirent* entry = readdir(dir.get())) {
    if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) {
      names.emplace_back(entry->d_name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The value of one xattr, read through /proc so that no path length limit applies; nullopt-like
// "missing" flag when the entry has no such attribute.
bool GetXattr(const std::string& proc_path, const std::string& name, std::string* value) {
  ssize_t size = getxattr(proc_path.c_str(), name.c_str(), nullptr, 0);
  if (size < 0) return false;
  value->assign(static_cast<size_t>(size), '\0');
  size = getxattr(proc_path.c_str(), name.c_str(), value->data(), value->size());
  if (size < 0) return false;
  value->resize(static_cast<size_t>(size));
  return true;
}

// user.* attributes plus the two ACL attributes, name -> value.
std::map<std::string, std::string> Xattrs(const std::string& proc_path) {
  std::map<std::string, std::string> out;
  ssize_t size = listxattr(proc_path.c_str(), nullptr, 0);
  if (size > 0) {
    std::string names(static_cast<size_t>(size), '\0');
    size = listxattr(proc_path.c_str(), names.data(), names.size());
    for (size_t i = 0; size > 0 && i < static_cast<size_t>(size);) {
      std::string name = names.c_str() + i;
      i += name.size() + 1;
      std::string value;
      if (name.rfind("user.", 0) == 0 && GetXattr(proc_path, name, &value)) out[name] = value;
    }
  }
  for (const char* acl : {"system.posix_acl_access", "system.posix_acl_default"}) {
    std::string value;
    if (GetXattr(proc_path, acl, &value)) out[acl] = value;
  }
  return out;
}

std::string Hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

class Comparer {
 public:
  explicit Comparer(const CompareOptions& options) : options_(options) {}

  void Entry(int parent_a, int parent_b, const std::string& name_a, const std::string& name_b,
             const std::string& path) {
    struct stat a, b;
    if (fstatat(parent_a, name_a.c_str(), &a, AT_SYMLINK_NOFOLLOW) != 0) {
      return Diff(path, std::string("cannot stat in first tree: ") + strerror(errno));
    }
    if (fstatat(parent_b, name_b.c_str(), &b, AT_SYMLINK_NOFOLLOW) != 0) {
      return Diff(path, std::string("cannot stat in second tree: ") + strerror(errno));
    }
    if ((a.st_mode & S_IFMT) != (b.st_mode & S_IFMT)) {
      return Diff(path, std::string("type ") + TypeName(a.st_mode) + " != " + TypeName(b.st_mode));
    }
    if ((a.st_mode & 07777) != (b.st_mode & 07777)) {
      Diff(path, "mode " + Octal(a.st_mode & 07777) + " != " + Octal(b.st_mode & 07777));
    }
    if (a.st_uid != b.st_uid || a.st_gid != b.st_gid) {
      Diff(path, "owner " + std::to_string(a.st_uid) + ":" + std::to_string(a.st_gid) +
                     " != " + std::to_string(b.st_uid) + ":" + std::to_string(b.st_gid));
    }
    if (a.st_mtim.tv_sec != b.st_mtim.tv_sec || a.st_mtim.tv_nsec != b.st_mtim.tv_nsec) {
      Diff(path, "mtime " + Time(a.st_mtim) + " != " + Time(b.st_mtim));
    }
    if (!S_ISDIR(a.st_mode)) Links(a, b, path);

    if (S_ISREG(a.st_mode)) {
      Content(parent_a, parent_b, name_a, name_b, a, b, path);
    } else if (S_ISLNK(a.st_mode)) {
      std::string target_a = ReadLink(parent_a, name_a), target_b = ReadLink(parent_b, name_b);
      if (target_a != target_b) {
        Diff(path, "symlink target '" + Escape(target_a) + "' != '" + Escape(target_b) + "'");
      }
    } else if (S_ISCHR(a.st_mode) || S_ISBLK(a.st_mode)) {
      if (a.st_rdev != b.st_rdev) {
        Diff(path, "device " + std::to_string(major(a.st_rdev)) + "," +
                       std::to_string(minor(a.st_rdev)) + " != " +
                       std::to_string(major(b.st_rdev)) + "," + std::to_string(minor(b.st_rdev)));
      }
    }
    // Symlinks cannot carry user.* attributes or ACLs on Linux.
    if (!S_ISLNK(a.st_mode)) CompareXattrs(parent_a, parent_b, name_a, name_b, path);
    if (S_ISDIR(a.st_mode)) Directory(parent_a, parent_b, name_a, name_b, path);
  }

  std::vector<std::string> Take() { return std::move(diffs_); }

 private:
  void Diff(const std::string& path, const std::string& what) {
    diffs_.push_back(Escape(path) + ": " + what);
  }

  static std::string Escape(const std::string& s) { return EscapeForMessage(s); }

  static std::string ReadLink(int parent, const std::string& name) {
    std::string target(8192, '\0');
    ssize_t n = readlinkat(parent, name.c_str(), target.data(), target.size());
    target.resize(n < 0 ? 0 : static_cast<size_t>(n));
    return target;
  }

  // Two names of one inode in the first tree must be two names of one inode in the second: each
  // inode is known by the first path it was seen at.
  void Links(const struct stat& a, const struct stat& b, const std::string& path) {
    if (a.st_nlink != b.st_nlink) {
      Diff(path, "link count " + std::to_string(a.st_nlink) + " != " + std::to_string(b.st_nlink));
    }
    if (a.st_nlink < 2 && b.st_nlink < 2) return;
    const std::string& first_a =
        first_path_a_.emplace(std::make_pair(a.st_dev, a.st_ino), path).first->second;
    const std::string& first_b =
        first_path_b_.emplace(std::make_pair(b.st_dev, b.st_ino), path).first->second;
    if (first_a != first_b) {
      Diff(path, "hardlinked to '" + Escape(first_a) + "' != to '" + Escape(first_b) + "'");
    }
  }

  void Content(int parent_a, int parent_b, const std::string& name_a, const std::string& name_b,
               const struct stat& a, const struct stat& b, const std::string& path) {
    if (a.st_size != b.st_size) {
      return Diff(path, "size " + std::to_string(a.st_size) + " != " + std::to_string(b.st_size));
    }
    long long allocated_a = static_cast<long long>(a.st_blocks) * 512;
    long long allocated_b = static_cast<long long>(b.st_blocks) * 512;
    if (allocated_b > allocated_a + options_.allocation_slack) {
      Diff(path, "occupies " + std::to_string(allocated_b) + " bytes on disk, the original " +
                     std::to_string(allocated_a) + " (holes filled?)");
    }
    Fd fa(openat(parent_a, name_a.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    Fd fb(openat(parent_b, name_b.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fa.fd < 0 || fb.fd < 0) return Diff(path, "cannot open to compare content");
    std::vector<char> buf_a(1 << 20), buf_b(1 << 20);
    off_t offset = 0;
    for (;;) {
      ssize_t na = pread(fa.fd, buf_a.data(), buf_a.size(), offset);
      ssize_t nb = pread(fb.fd, buf_b.data(), buf_b.size(), offset);
      if (na < 0 || nb < 0) return Diff(path, "read error while comparing content");
      if (na != nb || memcmp(buf_a.data(), buf_b.data(), static_cast<size_t>(na)) != 0) {
        return Diff(path, "content differs in the MiB at offset " + std::to_string(offset));
      }
      if (na == 0) return;
      offset += na;
    }
  }

  void CompareXattrs(int parent_a, int parent_b, const std::string& name_a,
                     const std::string& name_b, const std::string& path) {
    // O_PATH opens anything (fifos, devices, 0000 files) without side effects.
    Fd fa(openat(parent_a, name_a.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    Fd fb(openat(parent_b, name_b.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (fa.fd < 0 || fb.fd < 0) return Diff(path, "cannot open to compare xattrs");
    auto xa = Xattrs("/proc/self/fd/" + std::to_string(fa.fd));
    auto xb = Xattrs("/proc/self/fd/" + std::to_string(fb.fd));
    for (const auto& [name, value] : xa) {
      auto it = xb.find(name);
      if (it == xb.end()) {
        Diff(path, "xattr " + name + " missing in second tree");
      } else if (it->second != value) {
        Diff(path, "xattr " + name + " " + Hex(value) + " != " + Hex(it->second));
      }
    }
    for (const auto& [name, value] : xb) {
      if (xa.count(name) == 0) Diff(path, "xattr " + name + " only in second tree");
    }
  }

  void Directory(int parent_a, int parent_b, const std::string& name_a, const std::string& name_b,
                 const std::string& path) {
    constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    Fd da(openat(parent_a, name_a.c_str(), kFlags));
    Fd db(openat(parent_b, name_b.c_str(), kFlags));
    if (da.fd < 0 || db.fd < 0) return Diff(path, "cannot open directory");
    bool ok_a = false, ok_b = false;
    std::vector<std::string> names_a = List(da.fd, &ok_a), names_b = List(db.fd, &ok_b);
    if (!ok_a || !ok_b) return Diff(path, "cannot list directory");
    size_t i = 0, j = 0;
    while (i < names_a.size() || j < names_b.size()) {
      if (j == names_b.size() || (i < names_a.size() && names_a[i] < names_b[j])) {
        Diff(path + "/" + names_a[i++], "only in first tree");
      } else if (i == names_a.size() || names_b[j] < names_a[i]) {
        Diff(path + "/" + names_b[j++], "only in second tree");
      } else {
        Entry(da.fd, db.fd, names_a[i], names_b[j], path + "/" + names_a[i]);
        ++i;
        ++j;
      }
    }
  }

  const CompareOptions& options_;
  std::vector<std::string> diffs_;
  std::map<std::pair<dev_t, ino_t>, std::string> first_path_a_, first_path_b_;
};

void Split(const std::string& path, std::string* parent, std::string* name) {
  size_t slash = path.rfind('/');
  *parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  *name = slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::vector<std::string> CompareTrees(const std::string& a, const std::string& b,
                                      const CompareOptions& options) {
  std::string parent_a, name_a, parent_b, name_b;
  Split(a, &parent_a, &name_a);
  Split(b, &parent_b, &name_b);
  Fd pa(open(parent_a.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  Fd pb(open(parent_b.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (pa.fd < 0 || pb.fd < 0) return {"cannot open the parent directories of the trees"};
  Comparer comparer(options);
  comparer.Entry(pa.fd, pb.fd, name_a, name_b, name_a);
  return comparer.Take();
}

std::string DescribeDiffs(const std::vector<std::string>& diffs) {
  std::string out;
  for (const std::string& diff : diffs) out += "  " + diff + "\n";
  return out;
}

}  // namespace xfer::testing
