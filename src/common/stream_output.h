// DrainToFd: the receiver's copy of a verified stream into a descriptor: xfer-recv --exec's
// command's stdin, or --stdout.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "byte_stream.h"
#include "xfer/cancel.h"

namespace xfer {

// Writes what stream yields to fd until the stream ends. fd is made non-blocking while this runs
// (its flags are restored after), so that a reader that takes nothing for idle fails the copy with
// Code::kTimeout ("<shown> took nothing for 60 s") instead of blocking it. A reader that went
// away fails with EPIPE ("writing to <shown>: Broken pipe"). done (may be null) counts the bytes.
// *output_failed tells whether a failure was the descriptor's (rather than the stream's).
Status DrainToFd(ByteSource* stream, int fd, const std::string& shown,
                 std::chrono::milliseconds idle, const CancelToken* cancel,
                 std::atomic<uint64_t>* done, bool* output_failed);

}  // namespace xfer
