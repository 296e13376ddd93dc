// HandshakePool: authenticates up to `limit` accepted connections at once, each on a thread of
// its own with its own deadline, so that a peer that stalls or sends garbage delays nobody else.
//
// One thread (the receiver's accept loop) starts handshakes and collects their outcomes; the
// workers share nothing else. A slot stays taken until its outcome is collected, so the pool
// never holds more than `limit` connections, running or finished: its memory is bounded by
// limit x (one handshake's state) whatever the number of connections thrown at it.
//
// A peer that sends a byte and stalls would hold its slot until its deadline, and `limit` of them
// would keep everyone else out that long: MakeRoom cancels the handshakes that ran longest (past
// a grace period no honest handshake needs) when others wait for a slot.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
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
    bool preempted = false;            // MakeRoom cancelled it
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
  void CancelAll();
  // Cancels the handshakes that have run longest, each only once it has run for min_age, until
  // `wanted` slots are free or about to be (finished or cancelled, not yet collected). Returns
  // when the next one becomes old enough, or Never when no more need to go.
  Deadline MakeRoom(size_t wanted, std::chrono::milliseconds min_age);

 private:
  // One taken slot, from TryStart until its outcome is collected.
  struct Slot {
    CancelToken cancel;  // fired by CancelAll or MakeRoom
    Clock::time_point started;
    bool preempted = false;
    bool finished = false;
  };
  using SlotRef = std::list<Slot>::iterator;
  struct Job {
    Socket socket;
    std::string peer;
    Deadline deadline;
    SlotRef slot;
  };
  struct Finished {
    Outcome outcome;
    SlotRef slot;
  };

  void Work();

  const size_t limit_;
  const Handshake handshake_;
  int ready_fd_ = -1;  // eventfd, written each time an outcome is added

  mutable std::mutex mu_;
  std::condition_variable work_ready_;
  std::list<Slot> slots_;           // in start order; its size is the number of slots taken
  std::deque<Job> jobs_;            // started, not yet picked up by a worker
  std::vector<Finished> finished_;  // not yet collected
  size_t idle_workers_ = 0;
  bool cancelled_ = false;  // CancelAll was called
  bool stopping_ = false;
  std::vector<std::thread> workers_;  // started on demand, at most limit_
};

}  // namespace xfer
