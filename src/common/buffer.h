// Buffer: a heap byte array that is not zero-filled on allocation (chunks are overwritten anyway).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace xfer {

class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(size_t capacity)
      : data_(std::make_unique_for_overwrite<uint8_t[]>(capacity)), capacity_(capacity) {}

  // A moved-from buffer is empty (capacity 0), so it cannot be mistaken for a usable one.
  Buffer(Buffer&& other) noexcept
      : data_(std::move(other.data_)),
        capacity_(std::exchange(other.capacity_, 0)),
        size_(std::exchange(other.size_, 0)) {}
  Buffer& operator=(Buffer&& other) noexcept {
    data_ = std::move(other.data_);
    capacity_ = std::exchange(other.capacity_, 0);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }

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
