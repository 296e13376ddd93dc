// CancelToken: lets a caller (or a failing pipeline stage) stop a transfer from any thread.
// It owns an eventfd, so blocking socket waits can include it in poll() and wake at once.
#pragma once

#include <atomic>

namespace xfer {

class CancelToken {
 public:
  CancelToken();
  ~CancelToken();
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  // Safe to call from any thread, any number of times, and from a signal handler.
  void Cancel();
  bool IsCancelled() const { return cancelled_.load(std::memory_order_acquire); }
  // Becomes readable once Cancel() was called.
  int fd() const { return fd_; }

 private:
  std::atomic<bool> cancelled_{false};
  int fd_ = -1;
};

}  // namespace xfer
