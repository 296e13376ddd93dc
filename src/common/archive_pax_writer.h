// PaxWriter: a libarchive pax writer whose bytes go to a ByteSink, with errors as Status.
//
// Format choices, and why:
// - full pax (not "restricted" pax): restricted pax drops nanosecond mtimes unless some other
//   field already needs an extended header; full pax always keeps them.
// - hdrcharset=BINARY: names, link targets and xattr names are bytes, not text; without it
//   libarchive converts them to UTF-8 and fails on names that are not valid in the locale.
// - no blocking (bytes_per_block 0): no 10 KiB records, no padding at the end; every write goes
//   straight to the sink, which chunks the stream itself.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <string>

#include "archive_handles.h"
#include "byte_stream.h"
#include "xfer/status.h"

namespace xfer {

class PaxWriter {
 public:
  PaxWriter() = default;
  // Abandons an unclosed stream without writing its end marker: a truncated stream must not look
  // like a complete one.
  ~PaxWriter();
  PaxWriter(const PaxWriter&) = delete;
  PaxWriter& operator=(const PaxWriter&) = delete;

  Status Open(ByteSink* sink);
  // `shown` names the entry in messages.
  Status WriteHeader(struct archive_entry* entry, const std::string& shown);
  // Writes all of data as the current entry's content (hole bytes are consumed, not written).
  Status WriteData(const void* data, size_t len, const std::string& shown);
  // Writes len zero bytes as the current entry's content, from a read-only zero mapping in
  // pieces of up to 64 MiB. Within a hole of the entry's sparse map the writer consumes them
  // without reading or storing any, so a 1 TiB hole costs some 16,000 calls.
  Status WriteHole(uint64_t len, const std::string& shown);
  // The sink's region for reading content in place (ByteSink::WritableRegion): valid for the
  // next WriteData of that pointer, which libarchive passes straight through without blocking.
  uint8_t* WritableRegion(size_t* len) { return sink_->WritableRegion(len); }
  Status FinishEntry(const std::string& shown);
  // Writes the end-of-archive marker.
  Status Close();

 private:
  static la_ssize_t WriteCallback(struct archive* a, void* self, const void* data, size_t len);
  // The sink's own failure when there was one (it says more than libarchive's "write failed"),
  // else libarchive's message.
  Status Failure(const std::string& context) const;

  ArchiveWritePtr archive_;
  ByteSink* sink_ = nullptr;
  Status sink_status_;
  bool closed_ = false;
};

// Time fields the receiver does not restore are left out of an entry, so that a stream depends
// only on what is restored (and atime, which every read changes, does not make two runs differ).
void DropUnrestoredTimes(struct archive_entry* entry);

}  // namespace xfer
