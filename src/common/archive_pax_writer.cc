#include "archive_pax_writer.h"

#include "entry_marks.h"

namespace xfer {

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
