// Status: the one error type of libxfer. A code for programs, a message for people.
#pragma once

#include <string>
#include <string_view>

namespace xfer {

enum class Code {
  kOk = 0,
  kInvalidArgument,  // bad option, bad ticket, bad path given by the caller
  kIoError,          // a local read or write failed
  kNoSpace,          // the destination filesystem is (or would be) full
  kExists,           // the destination already holds an entry of that name
  kNetwork,          // connect, send or receive failed; the peer went away
  kAuth,             // the peer does not hold the ticket's secret
  kProtocol,         // the peer sent something the protocol does not allow
  kCorrupt,          // a checksum did not match
  kUnsafe,           // an entry would land outside the destination
  kTimeout,          // a deadline passed
  kCancelled,        // the caller (or the other side of the pipeline) stopped the work
  kPeerFailed,       // the other side reported its own failure
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  // "context: strerror(err)", with ENOSPC mapped to kNoSpace, ETIMEDOUT to kTimeout, ...
  static Status FromErrno(int err, std::string_view context);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // The same status with "prefix: " put before the message.
  Status WithContext(std::string_view prefix) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Evaluates a Status expression and returns it from the enclosing function if it failed.
#define XFER_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::xfer::Status xfer_status_ = (expr);        \
    if (!xfer_status_.ok()) return xfer_status_; \
  } while (0)

}  // namespace xfer
