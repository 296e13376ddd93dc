// Lifeline: cancels a program's token when what ties it to its caller goes away, so that the
// program stops and cleans up (staging directories, firewall rules) at once instead of waiting
// out its timeouts. Two ties, each optional:
//  - stdin ends (--lifeline). `xfer` keeps the stdin of every program it starts open until the
//    end, so when xfer or its ssh connection goes away, the programs stop.
//  - nobody reads stdout any more (xfer-recv). Its ticket and result go to a reader: the next
//    command of a pipeline, an ssh channel. Once that reader is gone nobody can learn the result,
//    and a sender that failed before connecting would otherwise leave it waiting its --timeout.
//    poll() tells without anything being written: POLLERR on a pipe whose read end was closed,
//    POLLHUP on a socket whose peer closed. A regular file, /dev/null or a terminal never do.
#pragma once

#include <thread>

#include "xfer/cancel.h"

namespace xfer::cli {

struct LifelineTies {
  bool stdin_ends = false;            // call once whatever stdin had to carry (tickets) was read
  bool stdout_reader_leaves = false;  // needs SIGPIPE ignored (CancelOnSignals does)
};

// The watching thread is stopped and joined when the Lifeline goes away, so declare it after the
// token it cancels: a detached watcher could cancel the token while (or after) main destroys it.
class Lifeline {
 public:
  Lifeline(CancelToken* token, LifelineTies ties);
  ~Lifeline();
  Lifeline(const Lifeline&) = delete;
  Lifeline& operator=(const Lifeline&) = delete;

 private:
  // Returns once a tie went away (after cancelling token) or this object goes away.
  void Watch(CancelToken* token, LifelineTies ties);

  CancelToken stop_;  // wakes the watcher when this object goes away
  std::thread watcher_;
};

}  // namespace xfer::cli
