#include "chunk_codec.h"

#include <zstd_errors.h>

#include <cstdlib>

#include "xxhash_dispatch.h"

namespace xfer {

ChunkCompressor::ChunkCompressor() : cctx_(ZSTD_createCCtx()) {
  if (cctx_ == nullptr) std::abort();  // out of memory
}

ChunkCompressor::~ChunkCompressor() { ZSTD_freeCCtx(cctx_); }

Status ChunkCompressor::Compress(const Buffer& raw, int level, Buffer* out, bool* compressed) {
  *compressed = false;
  size_t worth_it = raw.size() - raw.size() / 64;
  out->Reserve(worth_it);
  ZSTD_CCtx_reset(cctx_, ZSTD_reset_session_only);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_contentSizeFlag, 1);
  // A destination smaller than the bound makes zstd stop early when the data does not compress.
  size_t n = ZSTD_compress2(cctx_, out->data(), worth_it, raw.data(), raw.size());
  if (ZSTD_isError(n)) {
    if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall) {
      out->set_size(0);
      return Status::Ok();
    }
    return Status(Code::kIoError, std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
  }
  out->set_size(n);
  *compressed = true;
  return Status::Ok();
}

ChunkDecompressor::ChunkDecompressor() : dctx_(ZSTD_createDCtx()) {
  if (dctx_ == nullptr) std::abort();
}

ChunkDecompressor::~ChunkDecompressor() { ZSTD_freeDCtx(dctx_); }

Status ChunkDecompressor::Decompress(const uint8_t* data, size_t len, uint32_t raw_len,
                                     Buffer* out) {
  unsigned long long claimed = ZSTD_getFrameContentSize(data, len);
  if (claimed != raw_len) {
    return Status(Code::kCorrupt, "compressed chunk does not declare its announced size");
  }
  out->Reserve(raw_len);
  size_t n = ZSTD_decompressDCtx(dctx_, out->data(), raw_len, data, len);
  if (ZSTD_isError(n)) {
    return Status(Code::kCorrupt, std::string("corrupt compressed chunk: ") + ZSTD_getErrorName(n));
  }
  if (n != raw_len) return Status(Code::kCorrupt, "compressed chunk decompressed to a wrong size");
  out->set_size(n);
  return Status::Ok();
}

uint64_t ChunkChecksum(const uint8_t* data, size_t len) { return XXH3_64bits(data, len); }

}  // namespace xfer
