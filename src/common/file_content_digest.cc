#include "file_content_digest.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace xfer {

namespace {

Status ChangedSize(const std::string& shown) {
  return Status(Code::kIoError, shown + " changed size while being read");
}

// Where the data at or after offset begins, at most length: ENXIO means none (the rest is a
// hole). A filesystem without holes reports every offset as data.
Status NextData(int fd, uint64_t offset, uint64_t length, const std::string& shown,
                uint64_t* data) {
  off_t found = lseek(fd, static_cast<off_t>(offset), SEEK_DATA);
  if (found < 0 && errno != ENXIO) return Status::FromErrno(errno, "reading " + shown);
  *data = found < 0 ? length : std::min<uint64_t>(static_cast<uint64_t>(found), length);
  return Status::Ok();
}

Status ReadData(int fd, uint64_t offset, uint64_t end, const std::string& shown,
                const CancelToken* cancel, std::vector<char>* buffer, ContentDigest* digest) {
  while (offset < end) {
    if (cancel != nullptr && cancel->IsCancelled()) return Status(Code::kCancelled, "cancelled");
    size_t want = static_cast<size_t>(std::min<uint64_t>(end - offset, buffer->size()));
    ssize_t got = pread(fd, buffer->data(), want, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Status::FromErrno(errno, "reading " + shown);
    if (got == 0) return ChangedSize(shown);
    digest->Update(buffer->data(), static_cast<size_t>(got));
    offset += static_cast<uint64_t>(got);
  }
  return Status::Ok();
}

}  // namespace

Status DigestFileData(int fd, uint64_t length, const std::string& shown, const CancelToken* cancel,
                      std::vector<char>* buffer, ContentDigest* digest) {
  // SEEK_DATA past the end reads as a hole: a file shorter than length must fail here.
  struct stat st;
  if (fstat(fd, &st) != 0) return Status::FromErrno(errno, "reading " + shown);
  if (static_cast<uint64_t>(st.st_size) < length) return ChangedSize(shown);
  uint64_t offset = 0;
  while (offset < length) {
    uint64_t data = 0;
    XFER_RETURN_IF_ERROR(NextData(fd, offset, length, shown, &data));
    digest->UpdateZeros(data - offset);
    offset = data;
    if (offset >= length) break;
    off_t hole = lseek(fd, static_cast<off_t>(offset), SEEK_HOLE);
    if (hole < 0) return Status::FromErrno(errno, "reading " + shown);
    uint64_t end = std::min<uint64_t>(static_cast<uint64_t>(hole), length);
    // SEEK_HOLE finds the end of the file at once: a file shorter than length ends here.
    if (end == offset) return ChangedSize(shown);
    XFER_RETURN_IF_ERROR(ReadData(fd, offset, end, shown, cancel, buffer, digest));
    offset = end;
  }
  return Status::Ok();
}

}  // namespace xfer
