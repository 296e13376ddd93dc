// ReceivedStream: the receiver's view of the frames coming off the wire, in order and verified.
//
// As a ByteSource it yields the raw pax stream chunk by chunk to the extractor, checking sequence
// numbers and digesting the stream. After the archive ended, VerifyEnd() takes the MANIFEST and
// TRAILER frames and checks them against what was written.
//
// With a Forwarder, each DATA and MANIFEST frame goes on to it, in stream order and as received,
// once it was verified and used here, and the TRAILER once the stream checked out whole (before
// the files are compared and committed here: the downstream checks its own). When this copy
// failed but the stream did not, ForwardRest() passes the rest on unused.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "archive_extractor.h"
#include "buffer.h"
#include "buffer_pool.h"
#include "byte_stream.h"
#include "ordered_workers.h"
#include "stream_digest.h"
#include "wire_format.h"

namespace xfer {

class Forwarder;

struct ReceivedFrame {
  FrameHeader header;
  Buffer payload;  // as received
  Buffer raw;      // DATA: the decompressed chunk (or the payload itself when stored raw)
};

// The per-frame work of the receiver's worker threads: decompress DATA (into a buffer from
// pool), check XXH3-64 of DATA and MANIFEST payloads, refuse frame types that do not belong in
// the stream.
Status DecodeReceivedFrame(ReceivedFrame& frame, BufferPool* pool);

class ReceivedStream : public ByteSource {
 public:
  using ProgressFn = std::function<void(uint64_t content_bytes_written)>;

  // Buffers of consumed chunks go back to pool, or on to forward (may be null) with their payload.
  ReceivedStream(OrderedWorkers<ReceivedFrame>* frames, BufferPool* pool, const Hello& hello,
                 const ExtractCounters* counters, Forwarder* forward, ProgressFn on_progress);

  Status Next(const void** data, size_t* len) override;

  // Consumes MANIFEST frames and the TRAILER and checks them: frame counts, stream length and
  // digest, and the sender's manifest against the files written, record by record (written may
  // be null when the stream went elsewhere than into files: then only the record count). Each
  // sender's record that matched, as long as all before it did, is also handed to matched (may
  // be null), whose failure fails the check like a mismatch: the receiver keeps no paths, so
  // this is where a re-read of the written files learns them.
  using MatchedFn = std::function<Status(const ManifestRecord& record)>;
  Status VerifyEnd(const WrittenFiles* written, const MatchedFn& matched = nullptr);

  // This copy failed, not the stream: forwards every frame left, up to the TRAILER, as received
  // (each still verified by the workers). Fails when the stream itself does.
  Status ForwardRest();

  // No frame was missing, out of place or inconsistent with the stream so far: what this
  // receiver did not receive whole cannot go on to another.
  bool intact() const { return intact_; }
  uint64_t stream_bytes() const { return stream_bytes_; }
  Digest128 digest() const { return digest_.Finish(); }
  // After VerifyEnd() failed because a file's content differs from the sender's: its path.
  const std::string& mismatched_path() const { return mismatched_path_; }

 private:
  Status NextFrame(ReceivedFrame* frame);
  // Done with a frame: its buffers go back to the pool, or its payload on to forward_.
  void Release(ReceivedFrame frame);
  // The TRAILER against the stream received: counts, length, digest; the manifest parsed whole.
  Status CheckTrailer(const Buffer& payload, uint64_t listed, ManifestParser* parser);
  // The TRAILER as received goes on to forward_, after which it takes no more frames.
  void EndForwarding(const ReceivedFrame& trailer);
  // A failure of the stream itself (not of this copy): it cannot be forwarded any further.
  Status Broken(Status status);

  OrderedWorkers<ReceivedFrame>* frames_;
  BufferPool* pool_;
  const Hello& hello_;
  const ExtractCounters* counters_;
  Forwarder* forward_;
  ProgressFn on_progress_;
  std::optional<ReceivedFrame> current_;  // the DATA chunk the extractor is reading
  std::optional<ReceivedFrame> held_;  // a non-DATA frame read while the archive still wanted bytes
  uint64_t next_data_seq_ = 0;
  uint64_t stream_bytes_ = 0;
  StreamDigest digest_;
  bool ended_ = false;  // the TRAILER was taken
  bool intact_ = true;
  std::string mismatched_path_;
};

}  // namespace xfer
