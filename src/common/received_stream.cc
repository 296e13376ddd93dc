#include "received_stream.h"

#include "chunk_codec.h"
#include "entry_path.h"
#include "forwarder.h"

namespace xfer {

namespace {

Status ChecksumMatches(const Buffer& raw, const FrameHeader& header) {
  if (ChunkChecksum(raw.data(), raw.size()) != header.checksum) {
    return Status(Code::kCorrupt, "checksum mismatch in chunk " + std::to_string(header.seq) +
                                      ": the data was corrupted in transit");
  }
  return Status::Ok();
}

// The sender's record i against the i-th file written (the caller checks i is in range).
Status CompareRecord(size_t i, const ManifestRecord& sent, const WrittenFile& written) {
  if (PathDigest(sent.path) != written.path) {
    return Status(Code::kCorrupt, "file " + std::to_string(i) +
                                      " written has another path than the sender listed, " +
                                      EscapeForMessage(sent.path));
  }
  if (sent.size != written.size || sent.digest != written.digest) {
    return Status(Code::kCorrupt, "checksum mismatch for " + EscapeForMessage(sent.path));
  }
  return Status::Ok();
}

}  // namespace

Status DecodeReceivedFrame(ReceivedFrame& frame, BufferPool* pool) {
  const FrameHeader& h = frame.header;
  switch (h.type) {
    case FrameType::kData:
      if (h.flags & kFlagZstd) {
        // Each worker thread keeps its own context; it dies with the thread.
        thread_local ChunkDecompressor decompressor;
        frame.raw = pool->Take(h.raw_len);
        XFER_RETURN_IF_ERROR(decompressor.Decompress(frame.payload.data(), frame.payload.size(),
                                                     h.raw_len, &frame.raw));
      } else {
        frame.raw = std::move(frame.payload);
      }
      return ChecksumMatches(frame.raw, h);
    case FrameType::kManifest:
      return ChecksumMatches(frame.payload, h);
    case FrameType::kTrailer:
      return Status::Ok();
    default:
      return Status(Code::kProtocol, "sender sent frame type " +
                                         std::to_string(static_cast<int>(h.type)) +
                                         " in the middle of the stream");
  }
}

ReceivedStream::ReceivedStream(OrderedWorkers<ReceivedFrame>* frames, BufferPool* pool,
                               const Hello& hello, const ExtractCounters* counters,
                               Forwarder* forward, ProgressFn on_progress)
    : frames_(frames),
      pool_(pool),
      hello_(hello),
      counters_(counters),
      forward_(forward),
      on_progress_(std::move(on_progress)) {}

void ReceivedStream::Release(ReceivedFrame frame) {
  if (forward_ == nullptr) {
    pool_->Give(std::move(frame.payload));
    pool_->Give(std::move(frame.raw));
    return;
  }
  // A stored chunk was decoded by moving its payload into raw: then raw is what came in.
  bool stored = frame.header.type == FrameType::kData && !(frame.header.flags & kFlagZstd);
  Buffer& received = stored ? frame.raw : frame.payload;
  Buffer& spare = stored ? frame.payload : frame.raw;
  pool_->Give(std::move(spare));
  forward_->Forward(frame.header, std::move(received));
}

void ReceivedStream::EndForwarding(const ReceivedFrame& trailer) {
  ended_ = true;
  if (forward_ == nullptr) return;
  forward_->Finish(std::string_view(reinterpret_cast<const char*>(trailer.payload.data()),
                                    trailer.payload.size()));
}

Status ReceivedStream::Broken(Status status) {
  intact_ = false;
  return status;
}

Status ReceivedStream::ForwardRest() {
  if (current_) {
    Release(std::move(*current_));
    current_.reset();
  }
  while (!ended_) {
    ReceivedFrame frame;
    XFER_RETURN_IF_ERROR(NextFrame(&frame));
    if (frame.header.type == FrameType::kTrailer) {
      EndForwarding(frame);
      pool_->Give(std::move(frame.payload));
      return Status::Ok();
    }
    Release(std::move(frame));
  }
  return Status::Ok();
}

Status ReceivedStream::NextFrame(ReceivedFrame* frame) {
  if (held_) {
    *frame = std::move(*held_);
    held_.reset();
    return Status::Ok();
  }
  Status status;
  std::optional<ReceivedFrame> next = frames_->Next(&status);
  if (next) {
    *frame = std::move(*next);
    return Status::Ok();
  }
  if (status.ok()) {
    return Broken(Status(Code::kProtocol, "the sender's stream ended without a trailer"));
  }
  return Broken(status);
}

Status ReceivedStream::Next(const void** data, size_t* len) {
  uint64_t written = counters_->content_bytes_written.load();
  if (!hello_.stream && written > hello_.content_bytes) {
    return Broken(Status(Code::kProtocol, "the sender sent more file content than the " +
                                              std::to_string(hello_.content_bytes) +
                                              " bytes it announced"));
  }
  if (on_progress_) on_progress_(written);
  *len = 0;
  if (held_) return Status::Ok();
  ReceivedFrame frame;
  XFER_RETURN_IF_ERROR(NextFrame(&frame));
  if (frame.header.type != FrameType::kData) {
    held_ = std::move(frame);
    return Status::Ok();
  }
  if (frame.header.seq != next_data_seq_) {
    return Broken(Status(Code::kProtocol, "chunk " + std::to_string(frame.header.seq) +
                                              " arrived where chunk " +
                                              std::to_string(next_data_seq_) + " belongs"));
  }
  ++next_data_seq_;
  if (current_) Release(std::move(*current_));
  current_ = std::move(frame);
  digest_.AddChunk(current_->header.raw_len, current_->header.checksum);
  stream_bytes_ += current_->raw.size();
  *data = current_->raw.data();
  *len = current_->raw.size();
  return Status::Ok();
}

Status ReceivedStream::CheckTrailer(const Buffer& payload, uint64_t listed,
                                    ManifestParser* parser) {
  Trailer trailer;
  XFER_RETURN_IF_ERROR(DecodeTrailer(
      std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()), &trailer));
  XFER_RETURN_IF_ERROR(parser->Finish());
  if (trailer.data_frames != next_data_seq_ || trailer.stream_bytes != stream_bytes_) {
    return Status(Code::kCorrupt, "the stream is incomplete: " + std::to_string(stream_bytes_) +
                                      " of " + std::to_string(trailer.stream_bytes) +
                                      " bytes arrived");
  }
  if (trailer.stream_digest != digest_.Finish()) {
    return Status(Code::kCorrupt, "the stream digest does not match the sender's");
  }
  if (trailer.manifest_records != listed) {
    return Status(Code::kProtocol, "the manifest does not hold the announced record count");
  }
  return Status::Ok();
}

Status ReceivedStream::VerifyEnd(const WrittenFiles* written, const MatchedFn& matched) {
  ManifestParser parser;
  // The sender's records are compared as they arrive and then dropped: keeping them would let a
  // sender make us hold any number of records of up to 1 MiB of path each.
  Manifest batch;
  uint64_t listed = 0;
  Status mismatch;  // the first record that differs, reported after the stream checks below
  uint64_t next_manifest_seq = 0;
  if (current_) {
    Release(std::move(*current_));
    current_.reset();
  }
  while (true) {
    ReceivedFrame frame;
    XFER_RETURN_IF_ERROR(NextFrame(&frame));
    const FrameHeader& h = frame.header;
    if (h.type == FrameType::kData) {
      return Broken(Status(Code::kProtocol, "the sender sent data beyond the end of the archive"));
    }
    if (h.type == FrameType::kManifest) {
      if (h.seq != next_manifest_seq++) {
        return Broken(Status(Code::kProtocol, "manifest out of order"));
      }
      Status parsed =
          parser.Feed(std::string_view(reinterpret_cast<const char*>(frame.payload.data()),
                                       frame.payload.size()),
                      &batch);
      if (!parsed.ok()) return Broken(parsed);
      for (const ManifestRecord& record : batch) {
        // Past the files written, only the count is reported (below).
        if (written != nullptr && mismatch.ok() && listed < written->size()) {
          const WrittenFile& file = (*written)[listed];
          mismatch = CompareRecord(listed, record, file);
          // Of a file whose content differs (not its path): the path, which we never kept.
          if (!mismatch.ok() && PathDigest(record.path) == file.path)
            mismatched_path_ = record.path;
          if (mismatch.ok() && matched) mismatch = matched(record);
        }
        ++listed;
      }
      batch.clear();
      Release(std::move(frame));
      continue;
    }
    Status whole = CheckTrailer(frame.payload, listed, &parser);
    if (!whole.ok()) return Broken(whole);
    // The stream is whole: the downstream checks its files on its own, while this one does.
    EndForwarding(frame);
    if (written != nullptr && listed != written->size()) {
      return Status(Code::kCorrupt, "the sender listed " + std::to_string(listed) + " files but " +
                                        std::to_string(written->size()) + " were written");
    }
    return mismatch;
  }
}

}  // namespace xfer
