// SendSource: what a send reads, whichever kind SendOptions names: files and directories, the
// names of a list, the entries of an archive file (each becoming a pax stream with a manifest),
// or a byte stream (a command's output or a descriptor, sent as it comes).
#pragma once

#include <memory>

#include "archive_source.h"
#include "xfer/sender.h"

namespace xfer {

class SendSource {
 public:
  // Checks that options name exactly one kind of source, and what that kind allows (resume
  // only for files and directories or a list); reads nothing yet.
  static Status Open(const SendOptions& options, std::unique_ptr<SendSource>* out);
  virtual ~SendSource() = default;

  // A byte stream: no entries, no names, no manifest; its length is known at its end.
  virtual bool stream() const { return false; }
  // What the HELLO announces (a stream: nothing).
  virtual Status Summarize(SourceSummary* out) = 0;
  // Writes everything into sink: the pax stream with one manifest record per regular file (held:
  // what the receivers hold of an interrupted transfer, may be null), or the stream's bytes.
  virtual Status Write(ByteSink* sink, const CancelToken* cancel, const HeldFiles* held,
                       Manifest* manifest, ArchiveCounters* counters) = 0;
};

}  // namespace xfer
