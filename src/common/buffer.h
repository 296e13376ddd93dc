// Buffer: a heap byte array that is not zero-filled on allocation (chunks are overwritten anyway).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace xfer {

class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(size_t capacity)
      : data_(std::make_unique_for_overwrite<uint8_t[]>(capacity)), capacity_(capacity) {}

  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  void set_size(size_t size) { size_ = size; }
  // Makes room for at least capacity bytes; the content is not kept.
  void Reserve(size_t capacity) {
    if (capacity_ < capacity) *this = Buffer(capacity);
  }

 private:
  std::unique_ptr<uint8_t[]> data_;
  size_t capacity_ = 0;
  size_t size_ = 0;
};

}  // namespace xfer
