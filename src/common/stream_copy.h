// CopyStream: the bytes of a pipe or a file, as they come, into the sending pipeline.
#pragma once

#include <chrono>
#include <string>

#include "archive_source.h"
#include "byte_stream.h"
#include "xfer/cancel.h"

namespace xfer {

// Copies what fd yields into sink until it ends (read straight into the sink's buffer when it
// offers one). A pipe silent for longer than idle fails with Code::kTimeout ("<shown> wrote
// nothing for 60 s"); either token (the pipeline's stop, the caller's cancel; each may be null)
// stops it at once. counters->content_bytes_read follows the bytes copied.
Status CopyStream(int fd, const std::string& shown, ByteSink* sink, std::chrono::milliseconds idle,
                  const CancelToken* stop, const CancelToken* cancel, ArchiveCounters* counters);

}  // namespace xfer
