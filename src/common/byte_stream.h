// ByteSink / ByteSource: how the archive code hands bytes to the pipeline and takes them back,
// without knowing about chunks, compression or sockets.
#pragma once

#include <cstddef>
#include <cstdint>

#include "xfer/status.h"

namespace xfer {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status Write(const void* data, size_t len) = 0;
  // Optional zero-copy path: where the next bytes of the stream will be stored, and how many fit
  // there (*len == 0: no such region). A producer may prepare bytes in place and then Write() that
  // same pointer; the sink then keeps them where they are instead of copying.
  virtual uint8_t* WritableRegion(size_t* len) {
    *len = 0;
    return nullptr;
  }
  // Passes on what was written so far, as a short chunk if need be: a slow stream's bytes then
  // leave before the receiver's idle timeout, rather than when a whole chunk is full.
  virtual Status Flush() { return Status::Ok(); }
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Points *data at the next bytes of the stream; *len == 0 means the stream ended cleanly. The
  // bytes stay valid until the next call.
  virtual Status Next(const void** data, size_t* len) = 0;
};

}  // namespace xfer
