#include "fault_source.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "temp_dir.h"
#include "transfer_harness.h"
#include "tree_builder.h"
#include "tree_corners.h"
#include "tree_walk.h"

namespace xfer::testing {

namespace {

constexpr size_t kKiB = 1024;
constexpr size_t kMiB = 1024 * kKiB;

void MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) != 0) ADD_FAILURE() << "mkdir " << path << ": " << strerror(errno);
}

std::string TextOfSize(size_t size, unsigned seed) {
  static const char* const kWords[] = {"transfer", "chunk",  "verified", "staging", "receiver",
                                       "sender",   "digest", "resume",   "journal", "commit"};
  std::mt19937 rng(seed);
  std::string text;
  while (text.size() < size) {
    text += std::to_string(text.size()) + ' ';
    for (int i = 0; i < 8; ++i) text += std::string(kWords[rng() % 10]) + ' ';
    text += '\n';
  }
  text.resize(size);
  return text;
}

// 12 MiB apparent, 384 KiB of data in two extents; holes at the start, between, and at the end.
void MakeSparseFile(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) {
    ADD_FAILURE() << "creating " << path << ": " << strerror(errno);
    return;
  }
  std::mt19937_64 rng(7);
  std::string extent(384 * kKiB, '\0');
  for (char& c : extent) c = static_cast<char>(rng());
  bool ok = pwrite(fd, extent.data(), 128 * kKiB, 1 * kMiB) == 128 * kKiB &&
            pwrite(fd, extent.data() + 128 * kKiB, 256 * kKiB, 7 * kMiB) == 256 * kKiB &&
            ftruncate(fd, 12 * kMiB) == 0;
  if (!ok) ADD_FAILURE() << "writing " << path << ": " << strerror(errno);
  close(fd);
}

// Whether the two descriptors read the same bytes to their ends.
bool SameContent(int a, int b) {
  std::string buf_a(kMiB, '\0'), buf_b(kMiB, '\0');
  for (off_t offset = 0;;) {
    ssize_t na = pread(a, buf_a.data(), buf_a.size(), offset);
    ssize_t nb = pread(b, buf_b.data(), buf_b.size(), offset);
    if (na < 0 || na != nb || buf_a.compare(0, na, buf_b, 0, nb) != 0) return false;
    if (na == 0) return true;
    offset += na;
  }
}

int OpenDir(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) ADD_FAILURE() << "opening " << path << ": " << strerror(errno);
  return fd;
}

}  // namespace

std::vector<std::string> BuildFaultSource(const std::string& parent, const std::string& name) {
  std::string root = parent + "/" + name;
  MakeDir(root);
  MakeDir(root + "/sub");
  MakeDir(root + "/sub/deeper");
  MakeDir(root + "/sub/deeper/empty");
  MakeDir(root + "/small");
  // Larger than a chunk many times over: kills and cuts land mid-file.
  WriteRandomFile(root + "/big-1.bin", 1536 * kKiB + 17, 11);
  WriteRandomFile(root + "/big-2.bin", 1280 * kKiB, 12);
  WriteRandomFile(root + "/sub/big-3.bin", 1100 * kKiB + 3, 13);
  WriteFile(root + "/sub/journal.log", TextOfSize(1200 * kKiB, 14));
  // Many small files: faults land between entries, in pax headers, in the manifest.
  std::mt19937 rng(15);
  for (int i = 0; i < 150; ++i) {
    char file[32];
    std::snprintf(file, sizeof file, "/small/f%03d", i);
    size_t size = rng() % (8 * kKiB);
    if (i % 2 == 0) {
      WriteRandomFile(root + file + ".bin", size, 100 + static_cast<unsigned>(i));
    } else {
      WriteFile(root + file + ".txt", TextOfSize(size, 100 + static_cast<unsigned>(i)));
    }
  }
  WriteFile(root + "/sub/deeper/notes.txt", "kept deep down\n");
  WriteFile(root + "/empty", "");
  MakeSparseFile(root + "/sparse.img");
  if (symlink("sub/journal.log", (root + "/log-link").c_str()) != 0) {
    ADD_FAILURE() << "symlink: " << strerror(errno);
  }
  Corners corners;
  int top = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  BuildCorners(top, root, name, &corners);
  close(top);
  StampTimes(root);
  return corners.notes;
}

SourceFootprint Footprint(const std::string& root) {
  SourceFootprint footprint;
  auto count = [&footprint](const struct stat& st) {
    ++footprint.entries;
    footprint.allocated_bytes += static_cast<uint64_t>(st.st_blocks) * 512;
    if (S_ISREG(st.st_mode)) {
      ++footprint.files;
      footprint.content_bytes += static_cast<uint64_t>(st.st_size);
    }
  };
  int root_fd = OpenDir(root);
  if (root_fd < 0) return footprint;
  struct stat st;
  if (fstat(root_fd, &st) == 0) {
    count(st);
  } else {
    ADD_FAILURE() << "stat " << root << ": " << strerror(errno);
  }
  WalkPostOrder(root_fd, [&](int parent_fd, const char* name, const std::string&) {
    struct stat entry;
    if (fstatat(parent_fd, name, &entry, AT_SYMLINK_NOFOLLOW) != 0) {
      ADD_FAILURE() << "stat " << name << " under " << root << ": " << strerror(errno);
      return;
    }
    count(entry);
  });
  close(root_fd);
  return footprint;
}

uint64_t BytesLost(const std::string& source, const std::string& copy) {
  int source_fd = OpenDir(source);
  int copy_fd = OpenDir(copy);
  uint64_t lost = 0;
  if (source_fd >= 0 && copy_fd >= 0) {
    WalkPostOrder(source_fd, [&](int parent_fd, const char* name, const std::string& path) {
      struct stat st;
      if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) return;
      int original = openat(parent_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      int copied = OpenBelow(copy_fd, path, O_RDONLY);
      if (original < 0 || copied < 0 || !SameContent(original, copied)) {
        lost += static_cast<uint64_t>(st.st_size);
      }
      if (original >= 0) close(original);
      if (copied >= 0) close(copied);
    });
  }
  if (source_fd >= 0) close(source_fd);
  if (copy_fd >= 0) close(copy_fd);
  return lost;
}

}  // namespace xfer::testing
