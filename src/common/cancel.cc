#include "xfer/cancel.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace xfer {

CancelToken::CancelToken() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (fd_ < 0) std::abort();  // out of file descriptors at construction: nothing sane to do
}

CancelToken::~CancelToken() { close(fd_); }

void CancelToken::Cancel() {
  cancelled_.store(true, std::memory_order_release);
  uint64_t one = 1;
  ssize_t ignored = write(fd_, &one, sizeof one);
  (void)ignored;  // the counter only saturates; readability is all that matters
}

}  // namespace xfer
