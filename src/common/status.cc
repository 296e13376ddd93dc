#include "xfer/status.h"

#include <cerrno>
#include <cstring>

namespace xfer {

namespace {

Code CodeForErrno(int err) {
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return Code::kNoSpace;
    case EEXIST:
    case ENOTEMPTY:
      return Code::kExists;
    case ETIMEDOUT:
      return Code::kTimeout;
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE:
    case ENETUNREACH:
    case EHOSTUNREACH:
      return Code::kNetwork;
    default:
      return Code::kIoError;
  }
}

}  // namespace

Status Status::FromErrno(int err, std::string_view context) {
  std::string message(context);
  message += ": ";
  message += std::strerror(err);
  return Status(CodeForErrno(err), std::move(message));
}

Status Status::WithContext(std::string_view prefix) const {
  if (ok()) return *this;
  std::string message(prefix);
  message += ": ";
  message += message_;
  return Status(code_, std::move(message));
}

}  // namespace xfer
