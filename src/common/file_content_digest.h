// DigestFileData: a file on disk into a ContentDigest, reading only its data. The holes, found
// with SEEK_DATA / SEEK_HOLE, are given to the digest as zeros without being read, so a sparse
// file costs what its data costs. Used wherever a file already on disk is digested: the sender's
// held prefix and held files of a resume, and the receiver's --checksum re-read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "content_digest.h"
#include "xfer/cancel.h"
#include "xfer/status.h"

namespace xfer {

// Digests bytes [0, length) of the open file fd into digest, which goes on from where it is
// (Reset it first for a whole file). buffer is reused between calls; its size is the read size.
// Fails naming the file: "reading db/x: Input/output error", or "db/x changed size while being
// read" when it ends before length; Code::kCancelled once cancel (may be null) is set.
Status DigestFileData(int fd, uint64_t length, const std::string& shown, const CancelToken* cancel,
                      std::vector<char>* buffer, ContentDigest* digest);

}  // namespace xfer
