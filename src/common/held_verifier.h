// HeldVerifier: digests, on a thread of its own, the files a receiver holds whole of an
// interrupted transfer, while the stream goes on with what it does not hold.
//
// The sender's entry for such a file carries no data (archive_source.h), so nothing in the stream
// waits for these digests; only the MANIFEST, sent after the last DATA frame, needs them. Reading
// them on the reader's thread would make the resumed transfer wait, before it sends anything, for
// a read of everything the receiver holds.
#pragma once

#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bounded_queue.h"
#include "fs_util.h"
#include "manifest.h"
#include "xfer/cancel.h"
#include "xfer/status.h"

namespace xfer {

class HeldVerifier {
 public:
  // Files waiting at most; each holds a descriptor.
  static constexpr size_t kQueued = 256;

  explicit HeldVerifier(const CancelToken* cancel);
  // Stops without waiting for the queued files.
  ~HeldVerifier();
  HeldVerifier(const HeldVerifier&) = delete;
  HeldVerifier& operator=(const HeldVerifier&) = delete;

  // Queues the open file fd, expected to hold exactly size bytes, to be digested whole; tag comes
  // back with its digest. Blocks while kQueued files wait.
  void Add(UniqueFd fd, uint64_t size, size_t tag, std::string shown);

  // Waits until every queued file is digested (call once): (tag, digest) in the order added, or the
  // first failure ("reading db/x: ...", "db/x changed size while being read").
  Status Finish(std::vector<std::pair<size_t, Digest128>>* digests);

 private:
  struct Job {
    UniqueFd fd;  // invalid: no more jobs
    uint64_t size = 0;
    size_t tag = 0;
    std::string shown;
  };

  void Run();
  Status Digest(const Job& job, Digest128* digest);

  const CancelToken* cancel_;
  BoundedQueue<Job> queue_{kQueued};
  std::vector<std::pair<size_t, Digest128>> digests_;  // owned by the thread until it ends
  Status status_;
  std::vector<char> buffer_;
  std::thread thread_;
};

}  // namespace xfer
