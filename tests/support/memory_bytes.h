// In-memory ends of a byte stream for tests of the archive writers and readers: MemorySink keeps
// what is written, MemorySource hands a string back in pieces of an awkward size, so headers and
// blocks straddle pieces as they do off a socket.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <string>
#include <utility>

#include "byte_stream.h"

namespace xfer::testing {

class MemorySink : public ByteSink {
 public:
  std::string bytes;
  // Runs after each write with the total so far; what it returns is the write's status.
  std::function<Status(size_t total)> on_write;

  Status Write(const void* data, size_t len) override {
    bytes.append(static_cast<const char*>(data), len);
    return on_write ? on_write(bytes.size()) : Status::Ok();
  }
};

// Not a multiple of 512 or of 4096: tar headers and blocks straddle the pieces.
constexpr size_t kOddPiece = 7 * 1024 + 3;

class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::string bytes, size_t piece = kOddPiece)
      : bytes_(std::move(bytes)), piece_(piece) {}

  // From offset on, Next returns status instead of bytes: a reader failing mid-stream.
  void FailAt(size_t offset, Status status) {
    fail_at_ = offset;
    failure_ = std::move(status);
  }
  // Whether Next has reported the end (len 0).
  bool reached_end() const { return reached_end_; }

  Status Next(const void** data, size_t* len) override {
    if (!failure_.ok() && offset_ >= fail_at_) return failure_;
    *len = std::min(piece_, bytes_.size() - offset_);
    *data = bytes_.data() + offset_;
    offset_ += *len;
    if (*len == 0) reached_end_ = true;
    return Status::Ok();
  }

 private:
  std::string bytes_;
  size_t piece_;
  size_t offset_ = 0;
  size_t fail_at_ = 0;
  Status failure_;
  bool reached_end_ = false;
};

}  // namespace xfer::testing
