// ByteSink / ByteSource: how the archive code hands bytes to the pipeline and takes them back,
// without knowing about chunks, compression or sockets.
#pragma once

#include <cstddef>

#include "xfer/status.h"

namespace xfer {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status Write(const void* data, size_t len) = 0;
};

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Points *data at the next bytes of the stream; *len == 0 means the stream ended cleanly. The
  // bytes stay valid until the next call.
  virtual Status Next(const void** data, size_t* len) = 0;
};

}  // namespace xfer
