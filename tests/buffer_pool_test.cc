#include "buffer_pool.h"

#include <gtest/gtest.h>

namespace xfer {
namespace {

TEST(Buffer, MovedFromBufferIsEmpty) {
  Buffer a(1024);
  a.set_size(10);
  Buffer b = std::move(a);
  EXPECT_EQ(a.capacity(), 0u);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(b.capacity(), 1024u);
  EXPECT_EQ(b.size(), 10u);
}

TEST(BufferPool, ReusesReturnedBuffers) {
  BufferPool pool(4096, 2);
  Buffer first = pool.Take(100);
  EXPECT_EQ(first.capacity(), 4096u);
  const uint8_t* address = first.data();
  first.set_size(50);
  pool.Give(std::move(first));
  Buffer again = pool.Take(4096);
  EXPECT_EQ(again.data(), address);
  EXPECT_EQ(again.size(), 0u);
}

TEST(BufferPool, IgnoresMovedFromAndForeignBuffers) {
  BufferPool pool(4096, 4);
  Buffer taken = pool.Take(10);
  Buffer moved = std::move(taken);
  pool.Give(std::move(taken));  // moved-from: must not come back as a null buffer
  pool.Give(Buffer(100));       // another size
  Buffer fresh = pool.Take(10);
  ASSERT_NE(fresh.data(), nullptr);
  EXPECT_EQ(fresh.capacity(), 4096u);
}

TEST(BufferPool, LargerRequestsGetTheirOwnBuffer) {
  BufferPool pool(4096, 4);
  EXPECT_EQ(pool.Take(10000).capacity(), 10000u);
}

TEST(BufferPool, KeepsAtMostMaxFree) {
  BufferPool pool(64, 1);
  Buffer a = pool.Take(1), b = pool.Take(1);
  const uint8_t* kept = a.data();
  pool.Give(std::move(a));
  pool.Give(std::move(b));
  EXPECT_EQ(pool.Take(1).data(), kept);
  EXPECT_NE(pool.Take(1).data(), nullptr);
}

}  // namespace
}  // namespace xfer
