// ByteWriter / ByteReader: little-endian encoding of protocol fields, every read bounds-checked.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace xfer {

class ByteWriter {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U16(uint16_t v) { Le(v, 2); }
  void U32(uint32_t v) { Le(v, 4); }
  void U64(uint64_t v) { Le(v, 8); }
  // u32 length, then the bytes.
  void Bytes(std::string_view bytes) {
    U32(static_cast<uint32_t>(bytes.size()));
    out_.append(bytes);
  }
  std::string& str() { return out_; }

 private:
  void Le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string out_;
};

// Reads fields from a buffer; after the first short read every call fails and ok() is false.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  bool U8(uint8_t* v) { return Le(v, 1); }
  bool U16(uint16_t* v) { return Le(v, 2); }
  bool U32(uint32_t* v) { return Le(v, 4); }
  bool U64(uint64_t* v) { return Le(v, 8); }
  // u32 length (at most max_len), then the bytes.
  bool Bytes(std::string_view* v, uint32_t max_len) {
    uint32_t len = 0;
    if (!U32(&len) || len > max_len || len > in_.size()) return Fail();
    *v = in_.substr(0, len);
    in_.remove_prefix(len);
    return true;
  }
  bool ok() const { return ok_; }
  size_t remaining() const { return in_.size(); }

 private:
  template <typename T>
  bool Le(T* v, size_t n) {
    if (!ok_ || in_.size() < n) return Fail();
    uint64_t x = 0;
    for (size_t i = 0; i < n; ++i) x |= uint64_t{static_cast<uint8_t>(in_[i])} << (8 * i);
    *v = static_cast<T>(x);
    in_.remove_prefix(n);
    return true;
  }
  bool Fail() {
    ok_ = false;
    return false;
  }
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace xfer
