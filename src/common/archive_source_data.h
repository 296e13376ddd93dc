// The sender's data path for one regular file: read it, hand it to the pax writer, digest it.
#pragma once

#include <archive_entry.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "archive_pax_writer.h"
#include "content_digest.h"
#include "manifest.h"
#include "xfer/cancel.h"
#include "xfer/status.h"

namespace xfer {

struct FileCopyContext {
  PaxWriter* writer;
  const CancelToken* cancel;              // may be null
  std::atomic<uint64_t>* progress_bytes;  // logical bytes done; may be null
  ContentDigest* hasher;
  std::vector<char>* buffer;  // reused between files; its size is the read size
};

// Writes the content of the open regular file fd from offset `start` as the data of the entry
// whose header was just written, and returns its digest. The first `start` bytes are the
// receiver's already (a resumed file): the caller digested them (HashPrefix) and the entry's
// sparse map holds no data before `start`. Follows the entry's sparse map (from
// archive_read_disk_entry_from_file): data extents are read with pread() and written; holes are
// handed to the writer as zeros, which the pax writer consumes without storing (the map in the
// header tells the receiver where they are); a trailing hole is only digested. Holes are never
// read and cost the digest nothing (content_digest.h). Fails, naming the file, when it is shorter
// or longer than the size in the header: "db/ib_logfile0 changed size while being read".
Status CopyFileContent(const FileCopyContext& context, int fd, struct archive_entry* entry,
                       const std::string& shown, int64_t start, Digest128* digest);

// Makes the entry's sparse map say that nothing before `start` is sent: its data extents are
// clipped to [start, size), and an entry left without data is one hole.
void ClipSparseMap(struct archive_entry* entry, int64_t start);

// Resets the context's hasher and digests the first `length` bytes of fd (its holes unread, as
// zeros), sending nothing. Fails, naming the file, when it is shorter.
Status HashPrefix(const FileCopyContext& context, int fd, int64_t length, const std::string& shown);

}  // namespace xfer
