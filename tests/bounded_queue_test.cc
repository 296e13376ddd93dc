#include "bounded_queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <thread>

namespace xfer {
namespace {

using namespace std::chrono_literals;

TEST(BoundedQueueTest, HandsItemsOverInOrderAcrossThreads) {
  BoundedQueue<int> queue(3);
  constexpr int kItems = 10000;
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) ASSERT_TRUE(queue.Push(int{i}));
  });
  for (int i = 0; i < kItems; ++i) {
    std::optional<int> item = queue.Pop();
    ASSERT_TRUE(item.has_value());
    ASSERT_EQ(*item, i);
  }
  producer.join();
}

TEST(BoundedQueueTest, PushWaitsForRoom) {
  BoundedQueue<int> queue(1);
  ASSERT_TRUE(queue.Push(1));
  std::future<bool> second = std::async(std::launch::async, [&] { return queue.Push(2); });
  // A bounded wait that can only pass wrongly on a very slow machine, never fail wrongly.
  EXPECT_EQ(second.wait_for(100ms), std::future_status::timeout) << "the full queue took more";
  EXPECT_EQ(queue.Pop(), 1);
  ASSERT_EQ(second.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(second.get());
  EXPECT_EQ(queue.Pop(), 2);
}

TEST(BoundedQueueTest, AbortWakesAWaitingPushAndLeavesItsItem) {
  BoundedQueue<std::unique_ptr<int>> queue(1);
  ASSERT_TRUE(queue.Push(std::make_unique<int>(1)));
  auto kept = std::make_unique<int>(2);
  std::future<bool> pushed =
      std::async(std::launch::async, [&] { return queue.Push(std::move(kept)); });
  queue.Abort();
  ASSERT_EQ(pushed.wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(pushed.get());
  ASSERT_NE(kept, nullptr) << "a refused item must stay with the caller";
  EXPECT_EQ(*kept, 2);
}

TEST(BoundedQueueTest, AbortWakesAWaitingPopAndDropsWhatIsLeft) {
  BoundedQueue<int> empty(2);
  std::future<std::optional<int>> popped =
      std::async(std::launch::async, [&] { return empty.Pop(); });
  empty.Abort();
  ASSERT_EQ(popped.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(popped.get(), std::nullopt);

  BoundedQueue<int> full(2);
  ASSERT_TRUE(full.Push(1));
  full.Abort();
  EXPECT_EQ(full.Pop(), std::nullopt);
  EXPECT_FALSE(full.Push(3));
}

}  // namespace
}  // namespace xfer
