#include "handshake_pool.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

namespace xfer {

HandshakePool::HandshakePool(size_t limit, Handshake handshake)
    : limit_(limit), handshake_(std::move(handshake)) {
  ready_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  // Without it the accept loop could never learn that a handshake finished.
  if (ready_fd_ < 0) std::abort();
}

HandshakePool::~HandshakePool() {
  CancelAll();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (std::thread& worker : workers_) worker.join();
  close(ready_fd_);
}

bool HandshakePool::Full() const {
  std::lock_guard<std::mutex> lock(mu_);
  return slots_.size() >= limit_;
}

bool HandshakePool::TryStart(Socket* socket, std::string peer, Deadline deadline) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (slots_.size() >= limit_) return false;
    SlotRef slot = slots_.emplace(slots_.end());
    slot->started = Clock::now();
    if (cancelled_) slot->cancel.Cancel();
    jobs_.push_back(Job{std::move(*socket), std::move(peer), deadline, slot});
    // Threads are started only as needed: the usual run (one honest sender) costs one.
    if (idle_workers_ < jobs_.size() && workers_.size() < limit_) {
      workers_.emplace_back([this] { Work(); });
    }
  }
  work_ready_.notify_one();
  return true;
}

std::vector<HandshakePool::Outcome> HandshakePool::TakeFinished() {
  // Cleared before taking: an outcome added after the swap below writes the eventfd again, so the
  // accept loop's next poll cannot miss it.
  uint64_t count;
  (void)!read(ready_fd_, &count, sizeof count);
  std::vector<Finished> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    finished.swap(finished_);
    for (Finished& f : finished) slots_.erase(f.slot);
  }
  std::vector<Outcome> outcomes;
  outcomes.reserve(finished.size());
  for (Finished& f : finished) outcomes.push_back(std::move(f.outcome));
  return outcomes;
}

void HandshakePool::CancelAll() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  for (Slot& slot : slots_) slot.cancel.Cancel();
}

Deadline HandshakePool::MakeRoom(size_t wanted, std::chrono::milliseconds min_age) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t freeing = limit_ - slots_.size();
  for (const Slot& slot : slots_) freeing += slot.preempted || slot.finished;
  Clock::time_point now = Clock::now();
  // slots_ is in start order, so the first still running is the one that ran longest.
  for (Slot& slot : slots_) {
    if (freeing >= wanted) break;
    if (slot.preempted || slot.finished) continue;
    if (now - slot.started < min_age) return Deadline::At(slot.started + min_age);
    slot.preempted = true;
    slot.cancel.Cancel();
    ++freeing;
  }
  return Deadline::Never();
}

void HandshakePool::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    ++idle_workers_;
    work_ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    --idle_workers_;
    if (jobs_.empty()) return;  // stopping, nothing left to run
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    // The slot stays in slots_ until TakeFinished, so its token outlives the handshake.
    const CancelToken* cancel = &job.slot->cancel;
    lock.unlock();
    Outcome outcome;
    outcome.peer = std::move(job.peer);
    outcome.status = handshake_(std::move(job.socket), job.deadline, cancel, &outcome.channel);
    lock.lock();
    job.slot->finished = true;
    outcome.preempted = job.slot->preempted;
    finished_.push_back(Finished{std::move(outcome), job.slot});
    uint64_t one = 1;
    (void)!write(ready_fd_, &one, sizeof one);
  }
}

}  // namespace xfer
