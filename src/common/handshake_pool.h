// HandshakePool: authenticates up to `limit` accepted connections at once, each on a thread of
// its own with its own deadline, so that a peer that stalls or sends garbage delays nobody else.
//
// One thread (the receiver's accept loop) starts handshakes and collects their outcomes; the
// workers share nothing else. A slot stays taken until its outcome is collected, so the pool
// never holds more than `limit` connections, running or finished: its memory is bounded by
// limit x (one handshake's state) whatever the number of connections thrown at it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "channel.h"
#include "deadline.h"
#include "socket.h"
#include "xfer/cancel.h"
#include "xfer/status.h"

namespace xfer {

class HandshakePool {
 public:
  // Authenticates socket before deadline; cancel fires when the pool no longer wants the result.
  // Called on the pool's threads, several at once.
  using Handshake = std::function<Status(Socket socket, Deadline deadline,
                                         const CancelToken* cancel, std::unique_ptr<Channel>* out)>;

  struct Outcome {
    std::string peer;
    Status status;
    std::unique_ptr<Channel> channel;  // set when status is ok
  };

  HandshakePool(size_t limit, Handshake handshake);
  // Cancels the handshakes still running and joins the threads.
  ~HandshakePool();
  HandshakePool(const HandshakePool&) = delete;
  HandshakePool& operator=(const HandshakePool&) = delete;

  // Starts authenticating *socket (peer names it in outcomes) unless `limit` slots are taken:
  // then returns false and leaves *socket with the caller.
  bool TryStart(Socket* socket, std::string peer, Deadline deadline);
  bool Full() const;
  // Readable while a finished handshake waits to be collected: poll() it beside the listener.
  int ready_fd() const { return ready_fd_; }
  // The outcomes finished since the last call, in the order they finished; frees their slots.
  std::vector<Outcome> TakeFinished();
  // Makes every running handshake, and any started later, end with Code::kCancelled.
  void CancelAll() { cancel_.Cancel(); }

 private:
  struct Job {
    Socket socket;
    std::string peer;
    Deadline deadline;
  };

  void Work();

  const size_t limit_;
  const Handshake handshake_;
  CancelToken cancel_;
  int ready_fd_ = -1;  // eventfd, written each time an outcome is added

  mutable std::mutex mu_;
  std::condition_variable work_ready_;
  std::deque<Job> jobs_;           // started, not yet picked up by a worker
  std::vector<Outcome> finished_;  // not yet collected
  size_t taken_ = 0;               // slots: jobs queued, running or finished but not collected
  size_t idle_workers_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;  // started on demand, at most limit_
};

}  // namespace xfer
