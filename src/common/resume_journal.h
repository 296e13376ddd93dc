// ResumeJournal: the file beside a staging directory (DEST/.xfer-staging-<hex>.journal) that
//  - labels the staging directory with the transfer's top-level names,
//  - is flock()ed (LOCK_EX) by the live receiver for its whole lifetime, so that no other
//    receiver adopts or removes a staging directory in use,
//  - records, for --resume, the files the receiver holds completely and durably and the
//    verified prefix of a partly written file.
// The receiver makes the data durable (syncfs) before it records it: a record only ever vouches
// for durable data.
//
// Format, little-endian:
//   journal = magic record*
//   magic   = "XFERJNL2" (8 bytes)
//   record  = u32 payload length, u8 type, payload, u64 XXH3-64 (seed 0) of type byte + payload
//   type 1, names header (always the first record, exactly once):
//           u32 count, then per name: u32 length, bytes
//   type 2, held file: u32 path length, path, u64 size, u64 have, u64 meta.high, u64 meta.low,
//           u64 content.high, u64 content.low
//   type 3, invalidate: u32 path length, path
// A payload is at most kMaxJournalPayload bytes, a path at most kMaxJournalPath. The valid part
// of a journal ends at the first record that is cut short, fails its checksum or does not parse:
// what a crash mid-append leaves. Open cuts that tail off.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fs_util.h"
#include "held_file.h"
#include "xfer/status.h"

namespace xfer {

constexpr uint32_t kMaxJournalPath = 1 << 20;
constexpr uint32_t kMaxJournalPayload = kMaxJournalPath + 64;

// Movable, not copyable. The destructor closes the file (releasing the lock), never deletes it.
class ResumeJournal {
 public:
  ResumeJournal() = default;
  ResumeJournal(ResumeJournal&&) = default;
  ResumeJournal& operator=(ResumeJournal&&) = default;

  // Creates `path` (O_EXCL, mode 0600), locks it, writes the header with the top-level names and
  // makes it durable. Fails, leaving no file, when the names do not fit in one record.
  static Status Create(const std::string& path, const std::vector<std::string>& names,
                       ResumeJournal* out);

  // Opens and locks `path`, reads the header's names and the files the journal vouches for (the
  // last record of a path wins; an invalidation removes it), and cuts off a torn tail so that
  // later records follow the last intact one. Fails with Code::kExists when another receiver
  // holds the journal (or removed it meanwhile), Code::kCorrupt when it is not a journal.
  static Status Open(const std::string& path, ResumeJournal* out, std::vector<std::string>* names,
                     HeldFiles* held);

  // Reads only the header's names, without locking (to find candidates). Fails with
  // Code::kCorrupt on a file that is not a journal or has no intact header yet.
  static Status ReadNames(const std::string& path, std::vector<std::string>* names);

  // Durably records that the journal vouches for these files (one record each, one write()).
  Status Record(const std::vector<HeldFile>& files);
  // Durably records that the journal no longer vouches for path: called before the receiver
  // rewrites a held file.
  Status Invalidate(const std::string& path);

  bool is_open() const { return fd_.valid(); }

 private:
  Status Append(const std::string& bytes);

  UniqueFd fd_;
  std::string path_;
  bool failed_ = false;  // an append failed: the file may end in a torn record
};

}  // namespace xfer
