// CancelRelay: cancels `to` as soon as `from` is cancelled, for as long as it lives. A stage that
// waits on its own token (the receiver's network thread on `stop_network`) then also stops when
// the caller cancels the whole transfer (Ctrl-C), instead of at its next deadline.
#pragma once

#include <thread>

#include "xfer/cancel.h"

namespace xfer {

class CancelRelay {
 public:
  // from may be null: then nothing is relayed.
  CancelRelay(const CancelToken* from, CancelToken* to);
  // Stops relaying (and joins the relaying thread).
  ~CancelRelay();
  CancelRelay(const CancelRelay&) = delete;
  CancelRelay& operator=(const CancelRelay&) = delete;

 private:
  CancelToken done_;
  std::thread thread_;
};

}  // namespace xfer
