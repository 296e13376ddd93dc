// SurveySources: the public face of the sender's metadata-only walk, for pre-flight checks.
#include <utility>

#include "archive_source.h"
#include "xfer/sender.h"

namespace xfer {

Status SurveySources(const std::vector<std::string>& paths, SourceSurvey* out) {
  SourceSummary summary;
  XFER_RETURN_IF_ERROR(SummarizeSources(paths, &summary));
  out->top_names = std::move(summary.top_names);
  out->entries = summary.entries;
  out->files = summary.files;
  out->content_bytes = summary.content_bytes;
  out->allocated_bytes = summary.allocated_bytes;
  return Status::Ok();
}

}  // namespace xfer
