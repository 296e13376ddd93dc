// Chunk codec: each chunk of the pax stream becomes one independent zstd frame (so the receiver
// decompresses in parallel too), or is stored raw when it does not shrink, and is checksummed with
// XXH3-64 of its raw bytes.
#pragma once

#include <zstd.h>

#include <cstdint>

#include "buffer.h"
#include "xfer/status.h"

namespace xfer {

// One codec per worker thread: the zstd contexts are reused from chunk to chunk.
class ChunkCompressor {
 public:
  ChunkCompressor();
  ~ChunkCompressor();
  ChunkCompressor(const ChunkCompressor&) = delete;
  ChunkCompressor& operator=(const ChunkCompressor&) = delete;

  // Compresses raw at level into *out. *compressed is false (and out is empty) when zstd would not
  // save at least 1/64 of the size: the caller sends raw then.
  Status Compress(const Buffer& raw, int level, Buffer* out, bool* compressed);

 private:
  ZSTD_CCtx* cctx_;
};

class ChunkDecompressor {
 public:
  ChunkDecompressor();
  ~ChunkDecompressor();
  ChunkDecompressor(const ChunkDecompressor&) = delete;
  ChunkDecompressor& operator=(const ChunkDecompressor&) = delete;

  // Decompresses one zstd frame that must yield exactly raw_len bytes (never more: a frame that
  // claims more is refused before anything is allocated beyond raw_len).
  Status Decompress(const uint8_t* data, size_t len, uint32_t raw_len, Buffer* out);

 private:
  ZSTD_DCtx* dctx_;
};

uint64_t ChunkChecksum(const uint8_t* data, size_t len);

}  // namespace xfer
