// ReadEntryData: the data blocks of the entry a libarchive reader is on, checked and digested the
// same way by every reader of our pax stream (the extractor, the archive file writer).
#pragma once

#include <archive.h>

#include <cstdint>
#include <functional>
#include <string>

#include "content_digest.h"
#include "xfer/status.h"

namespace xfer {

struct DataBlock {
  const void* data;
  size_t len;
  int64_t offset;    // where it lies in the file
  int64_t advanced;  // logical bytes it moved the position by: the gap before it and itself
};

// Reads the entry's data blocks in order from *position on. Each must lie inside the entry and
// after the one before: a stream cannot make a writer go back or past the entry's size ("reading
// db/x: a data block lies outside the file"). The gap before a block is digested as zeros, then
// the block; then use(block) runs. *position ends after the last block: the trailing hole is the
// caller's. read_failure turns a failed read into the caller's error; cancelled is asked before
// every block.
Status ReadEntryData(struct archive* reader, int64_t size, const std::string& shown,
                     ContentDigest* hasher, int64_t* position,
                     const std::function<bool()>& cancelled,
                     const std::function<Status(const std::string& context)>& read_failure,
                     const std::function<Status(const DataBlock& block)>& use);

}  // namespace xfer
