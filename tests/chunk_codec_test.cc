#include "chunk_codec.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <cstring>
#include <random>

namespace xfer {
namespace {

Buffer Filled(size_t size, bool compressible) {
  Buffer b(size);
  std::mt19937 rng(7);
  for (size_t i = 0; i < size; ++i) {
    b.data()[i] =
        compressible ? static_cast<uint8_t>("abcdefgh"[i % 8]) : static_cast<uint8_t>(rng());
  }
  b.set_size(size);
  return b;
}

TEST(ChunkCodec, CompressibleChunkRoundTrips) {
  Buffer raw = Filled(1 << 20, true);
  ChunkCompressor compressor;
  Buffer packed;
  bool compressed = false;
  ASSERT_TRUE(compressor.Compress(raw, 1, &packed, &compressed).ok());
  ASSERT_TRUE(compressed);
  EXPECT_LT(packed.size(), raw.size() / 10);
  ChunkDecompressor decompressor;
  Buffer back;
  ASSERT_TRUE(decompressor.Decompress(packed.data(), packed.size(), 1 << 20, &back).ok());
  ASSERT_EQ(back.size(), raw.size());
  EXPECT_EQ(std::memcmp(back.data(), raw.data(), raw.size()), 0);
}

TEST(ChunkCodec, RandomChunkIsStoredRaw) {
  Buffer raw = Filled(1 << 20, false);
  ChunkCompressor compressor;
  Buffer packed;
  bool compressed = true;
  ASSERT_TRUE(compressor.Compress(raw, 1, &packed, &compressed).ok());
  EXPECT_FALSE(compressed);
}

TEST(ChunkCodec, RefusesAFrameClaimingMoreThanAnnounced) {
  // A decompression bomb: a tiny frame of 16 MiB of zeros, announced as 1 MiB.
  std::vector<uint8_t> zeros(16 << 20, 0);
  std::vector<uint8_t> bomb(ZSTD_compressBound(zeros.size()));
  size_t n = ZSTD_compress(bomb.data(), bomb.size(), zeros.data(), zeros.size(), 1);
  ASSERT_FALSE(ZSTD_isError(n));
  ChunkDecompressor decompressor;
  Buffer out;
  Status status = decompressor.Decompress(bomb.data(), n, 1 << 20, &out);
  EXPECT_EQ(status.code(), Code::kCorrupt);
  EXPECT_LE(out.capacity(), size_t{1} << 20);
}

TEST(ChunkCodec, RefusesGarbage) {
  uint8_t garbage[64];
  std::memset(garbage, 0x5a, sizeof garbage);
  ChunkDecompressor decompressor;
  Buffer out;
  EXPECT_EQ(decompressor.Decompress(garbage, sizeof garbage, 100, &out).code(), Code::kCorrupt);
}

}  // namespace
}  // namespace xfer
