#include "ordered_workers.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace xfer {
namespace {

TEST(OrderedWorkers, ReturnsItemsInSubmissionOrder) {
  OrderedWorkers<int> workers(4, 8, [](int& item) {
    // Uneven work so that later items often finish first.
    volatile int spin = (item % 7) * 10000;
    while (spin > 0) spin = spin - 1;
    item *= 2;
    return Status::Ok();
  });
  std::thread producer([&] {
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(workers.Submit(i));
    workers.Finish();
  });
  Status status;
  for (int i = 0; i < 1000; ++i) {
    std::optional<int> item = workers.Next(&status);
    ASSERT_TRUE(item.has_value());
    EXPECT_EQ(*item, 2 * i);
  }
  EXPECT_FALSE(workers.Next(&status).has_value());
  EXPECT_TRUE(status.ok());
  producer.join();
}

TEST(OrderedWorkers, BoundsItemsInFlight) {
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  OrderedWorkers<int> workers(2, 3, [&](int&) {
    int now = ++inside;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    return Status::Ok();
  });
  std::atomic<int> submitted{0};
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(workers.Submit(i));
      ++submitted;
    }
    workers.Finish();
  });
  Status status;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(workers.Next(&status).has_value());
    --inside;
    // Items not yet taken by Next(): never more than max_in_flight (3).
    EXPECT_LE(submitted.load() - (i + 1), 3);
  }
  producer.join();
}

TEST(OrderedWorkers, ReportsTheFailureOfAnItemInOrder) {
  OrderedWorkers<int> workers(2, 8, [](int& item) {
    return item == 3 ? Status(Code::kCorrupt, "bad item") : Status::Ok();
  });
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(workers.Submit(i));
  workers.Finish();
  Status status;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(workers.Next(&status).has_value());
  EXPECT_FALSE(workers.Next(&status).has_value());
  EXPECT_EQ(status.code(), Code::kCorrupt);
}

TEST(OrderedWorkers, AbortWakesABlockedProducerAndConsumer) {
  OrderedWorkers<int> workers(1, 1, [](int&) { return Status::Ok(); });
  std::thread producer([&] {
    while (workers.Submit(0)) {
    }
  });
  std::thread consumer([&] {
    Status status;
    while (workers.Next(&status)) {
    }
    EXPECT_EQ(status.code(), Code::kCancelled);
  });
  workers.Abort();
  producer.join();
  consumer.join();
}

}  // namespace
}  // namespace xfer
