#include "archive_pax_writer.h"

#include <sys/mman.h>

#include <algorithm>

#include "entry_marks.h"

namespace xfer {

namespace {

// Hole bytes for libarchive, which never reads them: address space only, mapped once, read-only
// (the kernel's zero page, should anything read it). Without the mapping, a small block.
const char* HoleBytes(size_t* len) {
  constexpr size_t kMapped = size_t{64} << 20;
  constexpr size_t kFallback = size_t{64} << 10;
  static const char kSmall[kFallback] = {};
  static void* const mapped =
      mmap(nullptr, kMapped, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapped == MAP_FAILED) {
    *len = kFallback;
    return kSmall;
  }
  *len = kMapped;
  return static_cast<const char*>(mapped);
}

}  // namespace

PaxWriter::~PaxWriter() {
  if (archive_ && !closed_) {
    // Closing runs libarchive's own cleanup (archive_write_fail() would skip it and leak the
    // client state); with the sink cut off first, the end marker it writes goes nowhere.
    sink_status_ = Status(Code::kCancelled, "archive abandoned");
    archive_write_close(archive_.get());
  }
}

Status PaxWriter::Open(ByteSink* sink) {
  sink_ = sink;
  archive_.reset(archive_write_new());
  if (!archive_) return Status(Code::kIoError, "creating the archive writer: out of memory");
  struct archive* a = archive_.get();
  if (archive_write_set_format_pax(a) != ARCHIVE_OK ||
      archive_write_set_options(a, "hdrcharset=BINARY") != ARCHIVE_OK ||
      archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
      archive_write_open2(a, this, nullptr, &PaxWriter::WriteCallback, nullptr, nullptr) !=
          ARCHIVE_OK) {
    return Failure("opening the archive writer");
  }
  return Status::Ok();
}

la_ssize_t PaxWriter::WriteCallback(struct archive*, void* self, const void* data, size_t len) {
  auto* writer = static_cast<PaxWriter*>(self);
  if (!writer->sink_status_.ok()) return -1;
  writer->sink_status_ = writer->sink_->Write(data, len);
  if (!writer->sink_status_.ok()) return -1;
  return static_cast<la_ssize_t>(len);
}

Status PaxWriter::Failure(const std::string& context) const {
  if (!sink_status_.ok()) return sink_status_;
  const char* message = archive_ ? archive_error_string(archive_.get()) : nullptr;
  return Status(Code::kIoError, context + ": " + (message ? message : "unknown libarchive error"));
}

Status PaxWriter::WriteHeader(struct archive_entry* entry, const std::string& shown) {
  MarkPathIfLost(entry);
  // ARCHIVE_WARN too: it means something about the entry was not stored as given.
  if (archive_write_header(archive_.get(), entry) != ARCHIVE_OK) {
    return Failure("archiving " + shown);
  }
  return Status::Ok();
}

Status PaxWriter::WriteData(const void* data, size_t len, const std::string& shown) {
  la_ssize_t written = archive_write_data(archive_.get(), data, len);
  if (written < 0) return Failure("archiving " + shown);
  if (static_cast<size_t>(written) != len) {
    return Status(Code::kIoError, "archiving " + shown + ": the archive took " +
                                      std::to_string(written) + " of " + std::to_string(len) +
                                      " bytes");
  }
  return Status::Ok();
}

Status PaxWriter::WriteHole(uint64_t len, const std::string& shown) {
  size_t piece = 0;
  const char* zeros = HoleBytes(&piece);
  while (len > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, piece));
    XFER_RETURN_IF_ERROR(WriteData(zeros, n, shown));
    len -= n;
  }
  return Status::Ok();
}

Status PaxWriter::FinishEntry(const std::string& shown) {
  if (archive_write_finish_entry(archive_.get()) != ARCHIVE_OK) {
    return Failure("archiving " + shown);
  }
  return Status::Ok();
}

Status PaxWriter::Close() {
  if (archive_write_close(archive_.get()) != ARCHIVE_OK) return Failure("ending the archive");
  closed_ = true;
  return Status::Ok();
}

void DropUnrestoredTimes(struct archive_entry* entry) {
  archive_entry_unset_atime(entry);
  archive_entry_unset_ctime(entry);
  archive_entry_unset_birthtime(entry);
}

}  // namespace xfer
