#include "resume_recorder.h"

#include <utility>

#include "resume_journal.h"

namespace xfer {

ResumeRecorder::ResumeRecorder(ResumeJournal* journal, std::function<Status()> sync,
                               const HeldFiles& vouched)
    : journal_(journal), sync_(std::move(sync)) {
  for (const auto& [path, file] : vouched) vouched_[PathDigest(path)] = file.have;
}

Status ResumeRecorder::Replacing(const std::string& path) {
  // Only a stream that names a path twice replaces what this run completed or is writing.
  std::erase_if(completed_, [&](const HeldFile& file) {
    if (file.path != path) return false;
    pending_path_bytes_ -= file.path.size();
    return true;
  });
  if (partial_ && partial_->path == path) partial_.reset();
  if (vouched_.erase(PathDigest(path)) == 0) return Status::Ok();
  return journal_->Invalidate(path);
}

Status ResumeRecorder::Completed(HeldFile file) {
  if (partial_ && partial_->path == file.path) partial_.reset();
  pending_path_bytes_ += file.path.size();
  completed_.push_back(std::move(file));
  return Due() ? Checkpoint() : Status::Ok();
}

Status ResumeRecorder::Writing(const HeldFile& partial) {
  partial_ = partial;
  return Due() ? Checkpoint() : Status::Ok();
}

Status ResumeRecorder::Checkpoint() {
  last_ = Clock::now();
  if (completed_.empty() && !partial_) return Status::Ok();
  XFER_RETURN_IF_ERROR(sync_());
  std::vector<HeldFile> records = std::move(completed_);
  completed_.clear();
  pending_path_bytes_ = 0;
  if (partial_) records.push_back(std::move(*partial_));
  partial_.reset();
  XFER_RETURN_IF_ERROR(journal_->Record(records));
  for (const HeldFile& file : records) vouched_[PathDigest(file.path)] = file.have;
  return Status::Ok();
}

uint64_t ResumeRecorder::vouched_bytes() const {
  uint64_t bytes = 0;
  for (const auto& [path, have] : vouched_) bytes += have;
  return bytes;
}

}  // namespace xfer
