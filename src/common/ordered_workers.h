// OrderedWorkers: a pool of threads that processes items in parallel and hands them back in the
// order they were submitted, with at most max_in_flight items inside at once (backpressure: the
// producer blocks when the consumer falls behind, so memory stays flat however large the data).
//
// Used for chunk compression on the sender and decompression + verification on the receiver.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "xfer/status.h"

namespace xfer {

template <typename T>
class OrderedWorkers {
 public:
  using Work = std::function<Status(T&)>;

  OrderedWorkers(size_t threads, size_t max_in_flight, Work work)
      : work_(std::move(work)), max_in_flight_(std::max(max_in_flight, threads)) {
    for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) {
      threads_.emplace_back([this] { WorkerLoop(); });
    }
  }

  ~OrderedWorkers() {
    Abort();
    for (std::thread& t : threads_) t.join();
  }

  OrderedWorkers(const OrderedWorkers&) = delete;
  OrderedWorkers& operator=(const OrderedWorkers&) = delete;

  // Blocks while max_in_flight items are inside. False once aborted (the item is dropped).
  bool Submit(T item) {
    std::unique_lock lock(mu_);
    space_cv_.wait(lock, [&] { return aborted_ || slots_.size() < max_in_flight_; });
    if (aborted_) return false;
    slots_.push_back(Slot{std::move(item), false, Status::Ok()});
    work_cv_.notify_one();
    return true;
  }

  // No more items will be submitted; Next() returns nullopt after the last one.
  void Finish() {
    std::lock_guard lock(mu_);
    finished_ = true;
    done_cv_.notify_all();
  }

  // Wakes every waiter; Submit and Next fail from now on.
  void Abort() {
    std::lock_guard lock(mu_);
    aborted_ = true;
    work_cv_.notify_all();
    space_cv_.notify_all();
    done_cv_.notify_all();
  }

  // What is inside, for telling which side of the queue is the bottleneck.
  struct Backlog {
    size_t ready = 0;      // processed, at the front: Next() returns them without blocking
    size_t unstarted = 0;  // submitted, waiting for a free worker
  };
  Backlog Count() {
    std::lock_guard lock(mu_);
    Backlog backlog;
    while (backlog.ready < slots_.size() && slots_[backlog.ready].done) ++backlog.ready;
    backlog.unstarted = slots_.size() - started_;
    return backlog;
  }

  size_t capacity() const { return max_in_flight_; }

  // The next item in submission order once processed. nullopt at the end, after Abort, or when the
  // work failed for that item (then *status holds why).
  std::optional<T> Next(Status* status) {
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [&] {
      return aborted_ || (!slots_.empty() && slots_.front().done) || (finished_ && slots_.empty());
    });
    if (aborted_) {
      *status = Status(Code::kCancelled, "pipeline stopped");
      return std::nullopt;
    }
    if (slots_.empty()) {
      *status = Status::Ok();
      return std::nullopt;
    }
    Slot slot = std::move(slots_.front());
    slots_.pop_front();
    --started_;
    space_cv_.notify_one();
    *status = slot.status;
    if (!slot.status.ok()) return std::nullopt;
    return std::move(slot.item);
  }

 private:
  struct Slot {
    T item;
    bool done;
    Status status;
  };

  void WorkerLoop() {
    std::unique_lock lock(mu_);
    while (true) {
      work_cv_.wait(lock, [&] { return aborted_ || started_ < slots_.size(); });
      if (aborted_) return;
      // std::deque keeps references stable across push_back/pop_front elsewhere.
      Slot& slot = slots_[started_++];
      lock.unlock();
      Status status = work_(slot.item);
      lock.lock();
      slot.status = std::move(status);
      slot.done = true;
      done_cv_.notify_all();
    }
  }

  Work work_;
  size_t max_in_flight_;
  std::mutex mu_;
  std::condition_variable work_cv_, space_cv_, done_cv_;
  std::deque<Slot> slots_;
  size_t started_ = 0;  // slots_[0, started_) are taken by a worker (or done)
  bool finished_ = false;
  bool aborted_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace xfer
