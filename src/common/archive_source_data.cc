#include "archive_source_data.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "file_content_digest.h"

namespace xfer {

namespace {

Status ChangedSize(const std::string& shown) {
  return Status(Code::kIoError, shown + " changed size while being read");
}

bool Cancelled(const FileCopyContext& context) {
  return context.cancel != nullptr && context.cancel->IsCancelled();
}

void AddProgress(const FileCopyContext& context, uint64_t bytes) {
  if (context.progress_bytes != nullptr) {
    context.progress_bytes->fetch_add(bytes, std::memory_order_relaxed);
  }
}

// The data extents of the entry, in order; a non-sparse file is one extent covering it all.
std::vector<std::pair<int64_t, int64_t>> DataExtents(struct archive_entry* entry, int64_t size) {
  std::vector<std::pair<int64_t, int64_t>> extents;
  if (archive_entry_sparse_reset(entry) == 0) {
    extents.emplace_back(0, size);
    return extents;
  }
  la_int64_t offset = 0;
  la_int64_t length = 0;
  while (archive_entry_sparse_next(entry, &offset, &length) == ARCHIVE_OK) {
    extents.emplace_back(offset, length);
  }
  return extents;
}

// A hole inside the file, from..to; what lies before `digested` was digested already. Each call
// stays within the hole: the pax writer of libarchive 3.6 mishandles a single write that spans a
// hole/data boundary.
Status WriteHole(const FileCopyContext& context, int64_t from, int64_t to, int64_t digested,
                 const std::string& shown) {
  if (to > digested)
    context.hasher->UpdateZeros(static_cast<uint64_t>(to - std::max(from, digested)));
  return context.writer->WriteHole(static_cast<uint64_t>(to - from), shown);
}

// Where to read the next piece: straight into the sink's chunk when it has a useful amount of
// room (the pax writer then passes that pointer through, and nothing is copied), else into the
// context's own buffer.
char* ReadTarget(const FileCopyContext& context, size_t* room) {
  constexpr size_t kMinInPlace = size_t{64} * 1024;
  uint8_t* region = context.writer->WritableRegion(room);
  if (region != nullptr && *room >= kMinInPlace) return reinterpret_cast<char*>(region);
  *room = context.buffer->size();
  return context.buffer->data();
}

Status CopyExtent(const FileCopyContext& context, int fd, int64_t offset, int64_t length,
                  const std::string& shown) {
  int64_t end = offset + length;
  while (offset < end) {
    if (Cancelled(context)) return Status(Code::kCancelled, "cancelled");
    size_t room = 0;
    char* target = ReadTarget(context, &room);
    size_t want = static_cast<size_t>(std::min<int64_t>(end - offset, static_cast<int64_t>(room)));
    ssize_t got = pread(fd, target, want, offset);
    if (got < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "reading " + shown);
    }
    if (got == 0) return ChangedSize(shown);  // the file ends before its stat size
    context.hasher->Update(target, static_cast<size_t>(got));
    XFER_RETURN_IF_ERROR(context.writer->WriteData(target, static_cast<size_t>(got), shown));
    AddProgress(context, static_cast<uint64_t>(got));
    offset += got;
  }
  return Status::Ok();
}

}  // namespace

Status CopyFileContent(const FileCopyContext& context, int fd, struct archive_entry* entry,
                       const std::string& shown, int64_t start, Digest128* digest) {
  const int64_t size = archive_entry_size(entry);
  if (start == 0) context.hasher->Reset();
  // Only a hint: a larger kernel readahead window for files read front to back. A small file is
  // read in one call anyway, and the system call would cost more than it saves.
  constexpr int64_t kAdviseFrom = int64_t{1} << 20;
  if (size >= kAdviseFrom) (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  // The pax writer emits a sparse file's map with the first data write: a file that is all hole
  // gets no other write, and without this one its entry would hold zeros instead of the map.
  XFER_RETURN_IF_ERROR(context.writer->WriteData("", 0, shown));

  int64_t position = 0;
  for (const auto& [offset, length] : DataExtents(entry, size)) {
    if (offset > position) {
      XFER_RETURN_IF_ERROR(WriteHole(context, position, offset, start, shown));
      AddProgress(context, static_cast<uint64_t>(offset - position));
    }
    XFER_RETURN_IF_ERROR(CopyExtent(context, fd, offset, length, shown));
    position = offset + length;
  }
  // A trailing hole is not in the map at all: the header's size says where the file ends, and
  // the receiver extends the file to it.
  if (position < size) {
    context.hasher->UpdateZeros(static_cast<uint64_t>(size - std::max(position, start)));
    AddProgress(context, static_cast<uint64_t>(size - position));
  }

  // Growth (or a shrink behind the last extent) shows only in the size now.
  struct stat st;
  if (fstat(fd, &st) != 0) return Status::FromErrno(errno, "reading " + shown);
  if (st.st_size != size) return ChangedSize(shown);
  *digest = context.hasher->Finish();
  return Status::Ok();
}

void ClipSparseMap(struct archive_entry* entry, int64_t start) {
  const int64_t size = archive_entry_size(entry);
  std::vector<std::pair<int64_t, int64_t>> extents = DataExtents(entry, size);
  archive_entry_sparse_clear(entry);
  bool any = false;
  for (auto [offset, length] : extents) {
    int64_t from = std::max(offset, start);
    int64_t to = offset + length;
    if (to <= from) continue;
    archive_entry_sparse_add_entry(entry, from, to - from);
    any = true;
  }
  if (!any) archive_entry_sparse_add_entry(entry, size, 0);
}

Status HashPrefix(const FileCopyContext& context, int fd, int64_t length,
                  const std::string& shown) {
  context.hasher->Reset();
  return DigestFileData(fd, static_cast<uint64_t>(length), shown, context.cancel, context.buffer,
                        context.hasher);
}

}  // namespace xfer
