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
  cancel_.Cancel();
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
  return taken_ >= limit_;
}

bool HandshakePool::TryStart(Socket* socket, std::string peer, Deadline deadline) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (taken_ >= limit_) return false;
    ++taken_;
    jobs_.push_back(Job{std::move(*socket), std::move(peer), deadline});
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
  std::vector<Outcome> outcomes;
  std::lock_guard<std::mutex> lock(mu_);
  outcomes.swap(finished_);
  taken_ -= outcomes.size();
  return outcomes;
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
    lock.unlock();
    Outcome outcome;
    outcome.peer = std::move(job.peer);
    outcome.status = handshake_(std::move(job.socket), job.deadline, &cancel_, &outcome.channel);
    lock.lock();
    finished_.push_back(std::move(outcome));
    uint64_t one = 1;
    (void)!write(ready_fd_, &one, sizeof one);
  }
}

}  // namespace xfer
