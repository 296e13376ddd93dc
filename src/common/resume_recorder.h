// ResumeRecorder: keeps a receiver's journal (resume_journal.h) in step with what it writes, so
// that an interrupted transfer can be resumed with what it left.
//
// About once a second, or sooner once the paths waiting to be recorded reach kMaxPendingPathBytes
// (so that deep paths do not pile up in memory), and once more when the transfer fails, it syncs
// the staging directory's filesystem and then records the files completed since the last time and
// the verified prefix of the file being written: a record only ever vouches for data that is
// already durable. Before an entry replaces a file the journal vouches for, the journal durably
// stops vouching for it.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "held_file.h"
#include "path_digest.h"
#include "xfer/status.h"

namespace xfer {

class ResumeJournal;

class ResumeRecorder {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kInterval{1};
  static constexpr size_t kMaxPendingPathBytes = 4 << 20;

  // journal must outlive the recorder; sync makes what was written durable; vouched: what the
  // journal vouches for already (what an adopted staging directory holds).
  ResumeRecorder(ResumeJournal* journal, std::function<Status()> sync, const HeldFiles& vouched);

  // An entry is about to replace path (or to write it anew).
  Status Replacing(const std::string& path);
  // A regular file was written whole, its metadata applied.
  Status Completed(HeldFile file);
  // The file being written is verified and written up to partial.have.
  Status Writing(const HeldFile& partial);
  // Syncs, then records what was completed and the prefix being written.
  Status Checkpoint();

  // What the journal vouches for now: files (whole or a prefix) and their bytes, what a failed
  // transfer keeps for the next run.
  uint64_t vouched_files() const { return vouched_.size(); }
  uint64_t vouched_bytes() const;

 private:
  bool Due() const {
    return pending_path_bytes_ >= kMaxPendingPathBytes || Clock::now() - last_ >= kInterval;
  }

  ResumeJournal* journal_;
  std::function<Status()> sync_;
  // PathDigest -> bytes held: 24 bytes a file, however long its path.
  std::unordered_map<Digest128, uint64_t, Digest128Hash> vouched_;
  std::vector<HeldFile> completed_;  // since the last checkpoint
  size_t pending_path_bytes_ = 0;    // of completed_
  std::optional<HeldFile> partial_;
  Clock::time_point last_ = Clock::now();
};

}  // namespace xfer
