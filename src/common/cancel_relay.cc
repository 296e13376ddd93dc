#include "cancel_relay.h"

#include <poll.h>

#include <cerrno>

namespace xfer {

CancelRelay::CancelRelay(const CancelToken* from, CancelToken* to) {
  if (from == nullptr) return;
  thread_ = std::thread([this, from, to] {
    // No deadline: the wait ends when this object dies (done_) or the caller cancels.
    pollfd fds[2] = {{from->fd(), POLLIN, 0}, {done_.fd(), POLLIN, 0}};
    while (!from->IsCancelled() && !done_.IsCancelled()) {
      if (poll(fds, 2, -1) < 0 && errno != EINTR) break;
    }
    if (from->IsCancelled()) to->Cancel();
  });
}

CancelRelay::~CancelRelay() {
  done_.Cancel();
  if (thread_.joinable()) thread_.join();
}

}  // namespace xfer
