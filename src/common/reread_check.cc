#include "reread_check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <vector>

#include "content_digest.h"
#include "entry_path.h"
#include "file_content_digest.h"
#include "fs_util.h"
#include "staging_dir.h"

namespace xfer {

namespace {

constexpr size_t kReadSize = 1 << 20;  // large reads: few syscalls per MiB, still cache-friendly

// Opens the regular file at the manifest path rel under dir_fd one component at a time: a path
// longer than PATH_MAX still opens, and a symlink on the way fails (ELOOP) instead of leading out
// of the staging directory.
Status OpenStagedFile(int dir_fd, const std::string& rel, const std::string& shown, UniqueFd* out) {
  UniqueFd parent;
  int at = dir_fd;
  size_t start = 0;
  for (size_t slash = rel.find('/'); slash != std::string::npos; slash = rel.find('/', start)) {
    std::string name = rel.substr(start, slash - start);
    // O_PATH: a directory restored with mode 0000 needs no read permission to be passed through.
    UniqueFd next(openat(at, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) return Status::FromErrno(errno, "re-reading " + shown);
    parent = std::move(next);
    at = parent.get();
    start = slash + 1;
  }
  // O_NONBLOCK: a fifo in the file's place must fail the type check below, not hang the open.
  UniqueFd fd(
      openat(at, rel.c_str() + start, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(errno, "re-reading " + shown);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, "re-reading " + shown);
  if (!S_ISREG(st.st_mode)) {
    return Status(Code::kCorrupt, "re-reading " + shown + ": no longer a regular file");
  }
  *out = std::move(fd);
  return Status::Ok();
}

// Reads the file's data from the disk into the hasher, size bytes.
Status ReadFromDisk(int fd, uint64_t size, const std::string& shown, const CancelToken* cancel,
                    std::vector<char>* buffer, ContentDigest* hasher) {
  // DONTNEED drops the file's clean pages, so the reads below reach the disk. (On tmpfs the pages
  // are the storage and stay; the check then reads memory, which is all there is.)
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  XFER_RETURN_IF_ERROR(DigestFileData(fd, size, shown, cancel, buffer, hasher));
  // Again once read: a check of the whole transfer should not push the host's working set (a
  // database's, say) out of the cache.
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  return Status::Ok();
}

}  // namespace

std::string RereadStats::Describe() const {
  char seconds_text[32];
  std::snprintf(seconds_text, sizeof seconds_text, "%.1f", seconds);
  return "re-read " + std::to_string(files) + (files == 1 ? " file (" : " files (") +
         FormatBytes(bytes) + ") in " + seconds_text + " s";
}

Status RereadCheck::Open(const std::string& staging_dir) {
  start_ = std::chrono::steady_clock::now();
  dir_fd_.reset(open(staging_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd_.valid()) return Status::FromErrno(errno, "re-reading " + staging_dir);
  buffer_.resize(kReadSize);
  return Status::Ok();
}

Status RereadCheck::Check(const ManifestRecord& record) {
  const std::string shown = EscapeForMessage(record.path);
  UniqueFd fd;
  XFER_RETURN_IF_ERROR(OpenStagedFile(dir_fd_.get(), record.path, shown, &fd));
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, "re-reading " + shown);
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size != record.size) {
    return Status(Code::kCorrupt, "re-reading " + shown + ": " + std::to_string(size) +
                                      " bytes on disk, " + std::to_string(record.size) +
                                      " were sent");
  }
  hasher_.Reset();
  XFER_RETURN_IF_ERROR(ReadFromDisk(fd.get(), size, shown, cancel_, &buffer_, &hasher_));
  if (hasher_.Finish() != record.digest) {
    return Status(Code::kCorrupt,
                  "re-reading " + shown + ": the content on disk differs from what was sent");
  }
  ++done_.files;
  done_.bytes += size;
  return Status::Ok();
}

RereadStats RereadCheck::stats() const {
  RereadStats stats = done_;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return stats;
}

}  // namespace xfer
