// BoundedQueue: a first-in first-out hand-off between two threads that holds at most `capacity`
// items. A producer that gets ahead blocks, so a slow consumer slows the producer down instead of
// growing memory.
//
// Used by the receiver's Forwarder: verified frames wait here for the thread that sends them
// downstream.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

namespace xfer {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity > 0 ? capacity : 1) {}

  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // Blocks while the queue is full. False once aborted: then item is left as it was, so the
  // caller can still recycle what it holds.
  bool Push(T&& item) {
    std::unique_lock lock(mu_);
    space_cv_.wait(lock, [&] { return aborted_ || items_.size() < capacity_; });
    if (aborted_) return false;
    items_.push_back(std::move(item));
    item_cv_.notify_one();
    return true;
  }

  // Blocks while the queue is empty. nullopt once aborted, even if items are left inside.
  std::optional<T> Pop() {
    std::unique_lock lock(mu_);
    item_cv_.wait(lock, [&] { return aborted_ || !items_.empty(); });
    if (aborted_) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    space_cv_.notify_one();
    return item;
  }

  // Wakes every waiter; Push and Pop fail from now on.
  void Abort() {
    std::lock_guard lock(mu_);
    aborted_ = true;
    item_cv_.notify_all();
    space_cv_.notify_all();
  }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable item_cv_, space_cv_;
  std::deque<T> items_;
  bool aborted_ = false;
};

}  // namespace xfer
