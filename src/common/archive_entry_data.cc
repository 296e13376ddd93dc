#include "archive_entry_data.h"

namespace xfer {

Status ReadEntryData(struct archive* reader, int64_t size, const std::string& shown,
                     ContentDigest* hasher, int64_t* position,
                     const std::function<bool()>& cancelled,
                     const std::function<Status(const std::string& context)>& read_failure,
                     const std::function<Status(const DataBlock& block)>& use) {
  for (;;) {
    if (cancelled()) return Status(Code::kCancelled, "cancelled");
    const void* data = nullptr;
    size_t len = 0;
    la_int64_t offset = 0;
    int r = archive_read_data_block(reader, &data, &len, &offset);
    if (r == ARCHIVE_EOF) return Status::Ok();
    if (r != ARCHIVE_OK) return read_failure("reading " + shown);
    if (offset < *position || offset > size || static_cast<int64_t>(len) > size - offset) {
      return Status(Code::kProtocol, "reading " + shown + ": a data block lies outside the file");
    }
    hasher->UpdateZeros(static_cast<uint64_t>(offset - *position));
    hasher->Update(data, len);
    DataBlock block{data, len, offset, offset + static_cast<int64_t>(len) - *position};
    *position = offset + static_cast<int64_t>(len);
    XFER_RETURN_IF_ERROR(use(block));
  }
}

}  // namespace xfer
