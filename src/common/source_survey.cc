// SurveySources: the public face of the sender's metadata-only walk, for pre-flight checks.
#include <utility>

#include "send_source.h"

namespace xfer {

Status SurveySources(const SendOptions& options, SourceSurvey* out) {
  std::unique_ptr<SendSource> source;
  XFER_RETURN_IF_ERROR(SendSource::Open(options, &source));
  SourceSummary summary;
  XFER_RETURN_IF_ERROR(source->Summarize(&summary));
  out->top_names = std::move(summary.top_names);
  out->entries = summary.entries;
  out->files = summary.files;
  out->content_bytes = summary.content_bytes;
  out->allocated_bytes = summary.allocated_bytes;
  return Status::Ok();
}

}  // namespace xfer
