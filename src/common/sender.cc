// The sending pipeline:
//   reader thread: WriteArchive -> ChunkingSink (fixed-size chunks from a BufferPool)
//   -> OrderedWorkers: XXH3-64 + zstd per chunk, on `threads` threads
//   -> this thread: DATA frames in order, then MANIFEST frames, TRAILER, and the receiver's RESULT.
#include "xfer/sender.h"

#include <cstring>
#include <optional>
#include <thread>

#include "adaptive_level.h"
#include "archive_source.h"
#include "buffer_pool.h"
#include "chunk_codec.h"
#include "frame_io.h"
#include "ordered_workers.h"
#include "stream_digest.h"
#include "transfer_common.h"

namespace xfer {

namespace {

constexpr uint32_t kMinChunkSize = 64 << 10;

struct Chunk {
  uint64_t seq = 0;
  Buffer raw;
  Buffer packed;
  bool compressed = false;
  uint64_t checksum = 0;
};

// Cuts the pax stream into chunk_size pieces and feeds them to the compressors in order.
class ChunkingSink : public ByteSink {
 public:
  ChunkingSink(uint32_t chunk_size, OrderedWorkers<Chunk>* workers, BufferPool* pool)
      : chunk_size_(chunk_size), workers_(workers), pool_(pool) {}

  Status Write(const void* data, size_t len) override {
    const uint8_t* bytes = static_cast<const uint8_t*>(data);
    while (len > 0) {
      EnsureChunk();
      size_t used = current_.raw.size();
      size_t n = std::min(len, chunk_size_ - used);
      if (bytes != current_.raw.data() + used) std::memcpy(current_.raw.data() + used, bytes, n);
      current_.raw.set_size(used + n);
      bytes += n;
      len -= n;
      if (current_.raw.size() == chunk_size_) XFER_RETURN_IF_ERROR(Submit());
    }
    return Status::Ok();
  }

  // The rest of the current chunk: file content read straight into it is not copied again.
  uint8_t* WritableRegion(size_t* len) override {
    EnsureChunk();
    *len = chunk_size_ - current_.raw.size();
    return current_.raw.data() + current_.raw.size();
  }

  Status Flush() { return current_.raw.size() > 0 ? Submit() : Status::Ok(); }

  uint64_t chunks() const { return next_seq_; }
  uint64_t stream_bytes() const { return stream_bytes_; }

 private:
  void EnsureChunk() {
    if (current_.raw.capacity() == 0) current_.raw = pool_->Take(chunk_size_);
  }

  Status Submit() {
    stream_bytes_ += current_.raw.size();
    current_.seq = next_seq_++;
    if (!workers_->Submit(std::move(current_))) {
      return Status(Code::kCancelled, "transfer stopped");
    }
    current_ = Chunk();
    return Status::Ok();
  }

  const size_t chunk_size_;
  OrderedWorkers<Chunk>* workers_;
  BufferPool* pool_;
  Chunk current_;
  uint64_t next_seq_ = 0;
  uint64_t stream_bytes_ = 0;
};

class SendSession {
 public:
  explicit SendSession(const SendOptions& options)
      : options_(options), pacer_(options.progress, options.progress_interval) {}

  Status Run(Report* report) {
    XFER_RETURN_IF_ERROR(ValidateOptions());
    XFER_RETURN_IF_ERROR(Connect());
    SourceSummary summary;
    Status status = SummarizeSources(options_.paths, &summary);
    if (status.ok()) status = Announce(summary);
    if (status.ok()) status = Stream(summary);
    if (status.ok()) status = AwaitVerdict();
    if (!status.ok()) {
      SendErrorAndClose(channel_.get(), status);
      return status;
    }
    channel_->CloseWrite();
    report->entries = summary.entries;
    report->files = summary.files;
    report->content_bytes = summary.content_bytes;
    report->stream_bytes = stream_bytes_;
    report->wire_bytes = channel_->BytesSent() + channel_->BytesReceived();
    report->seconds = pacer_.Seconds();
    report->threads = threads_;
    report->stream_digest = DigestHex(stream_digest_.Finish());
    return Status::Ok();
  }

 private:
  Status ValidateOptions() const {
    if (options_.paths.empty()) return Status(Code::kInvalidArgument, "no paths to send");
    if (options_.host.empty()) return Status(Code::kInvalidArgument, "no receiver host given");
    if (options_.level < 0 || options_.level > 19) {
      return Status(Code::kInvalidArgument, "compression level must be from 1 to 19 (0: adaptive)");
    }
    if (options_.chunk_size < kMinChunkSize || options_.chunk_size > kMaxChunkSize) {
      return Status(Code::kInvalidArgument, "chunk size must be from 64 KiB to 16 MiB");
    }
    return Status::Ok();
  }

  std::string Where() const { return options_.host + ":" + std::to_string(options_.ticket.port); }

  Deadline IdleDeadline() const { return Deadline::After(options_.idle_timeout); }

  Status Connect() {
    Deadline deadline = Deadline::After(options_.timeout);
    Socket socket;
    XFER_RETURN_IF_ERROR(
        ConnectTcp(options_.host, options_.ticket.port, deadline, options_.cancel, &socket));
    level_.emplace(options_.level, PeerIsLocal(socket.fd()));
    ChannelParams params;
    params.secret = options_.ticket.secret;
    params.encrypt = options_.ticket.encrypt;
    XFER_RETURN_IF_ERROR(
        OpenClientChannel(std::move(socket), params, deadline, options_.cancel, &channel_));
    if (options_.log) {
      options_.log(LogLevel::kInfo, "connected to " + Where() + " (" + channel_->Describe() + ")");
    }
    return Status::Ok();
  }

  Status Announce(const SourceSummary& summary) {
    Hello hello;
    hello.chunk_size = options_.chunk_size;
    hello.entries = summary.entries;
    hello.files = summary.files;
    hello.content_bytes = summary.content_bytes;
    hello.allocated_bytes = summary.allocated_bytes;
    hello.top_names = summary.top_names;
    total_bytes_ = summary.content_bytes;
    Deadline deadline = Deadline::After(options_.timeout);
    XFER_RETURN_IF_ERROR(WriteControl(channel_.get(), FrameType::kHello, EncodeHello(hello),
                                      deadline, options_.cancel));
    std::string ignored;
    return ReadControl(channel_.get(), FrameType::kAccept, "receiver", &ignored, deadline,
                       options_.cancel);
  }

  // Reads what the receiver says mid-stream: only ERROR (or its disappearance) is expected.
  Status HearReceiver() {
    std::string payload;
    Status status = ReadControl(channel_.get(), FrameType::kResult, "receiver", &payload,
                                Deadline::After(std::chrono::seconds(5)), options_.cancel);
    if (status.code() == Code::kPeerFailed) return status;
    if (status.ok()) return Status(Code::kProtocol, "receiver reported a result mid-stream");
    return Status(Code::kNetwork,
                  "connection to receiver " + Where() + " lost: " + status.message());
  }

  Status SendFrame(const FrameHeader& header, const uint8_t* payload) {
    if (channel_->InputPending()) return HearReceiver();
    Status status =
        WriteFrame(channel_.get(), header, payload, IdleDeadline(), options_.cancel, true);
    if (status.code() == Code::kPeerFailed) return HearReceiver();
    if (!status.ok() && status.code() != Code::kCancelled) {
      return Status(status.code(), "sending to " + Where() + ": " + status.message());
    }
    return status;
  }

  static Status CompressChunk(Chunk& chunk, ChunkCompressor* compressor, int level,
                              BufferPool* pool) {
    chunk.checksum = ChunkChecksum(chunk.raw.data(), chunk.raw.size());
    if (level == 0) return Status::Ok();  // stored raw
    chunk.packed = pool->Take(chunk.raw.size());
    return compressor->Compress(chunk.raw, level, &chunk.packed, &chunk.compressed);
  }

  Status Stream(const SourceSummary& summary) {
    int threads = ResolveThreads(options_.threads);
    threads_ = threads;
    size_t in_flight = 2 * threads + 2;
    // Raw and packed buffers of every chunk inside the pipeline, plus the one being filled.
    BufferPool pool(options_.chunk_size, 2 * in_flight + 2);
    auto work = [this, &pool](Chunk& chunk) {
      // Each worker thread keeps its own zstd context; it dies with the thread.
      thread_local ChunkCompressor compressor;
      int level = options_.compress ? level_->Current() : 0;
      return CompressChunk(chunk, &compressor, level, &pool);
    };
    OrderedWorkers<Chunk> workers(threads, in_flight, work);
    ChunkingSink sink(options_.chunk_size, &workers, &pool);
    CancelToken stop_reader;
    ArchiveCounters counters;
    Manifest manifest;
    Status reader_status;
    std::thread reader([&] {
      reader_status = WriteArchive(options_.paths, &sink, &stop_reader, &manifest, &counters);
      if (reader_status.ok()) reader_status = sink.Flush();
      if (reader_status.ok()) {
        workers.Finish();
      } else {
        workers.Abort();
      }
    });

    Status status = SendChunks(&workers, counters, &pool);
    if (!status.ok()) {
      stop_reader.Cancel();
      workers.Abort();
    }
    reader.join();
    if (!reader_status.ok() && reader_status.code() != Code::kCancelled) return reader_status;
    XFER_RETURN_IF_ERROR(status);
    XFER_RETURN_IF_ERROR(reader_status);
    if (manifest.size() != summary.files) {
      return Status(Code::kIoError,
                    "the source changed while being read: " + std::to_string(summary.files) +
                        " files announced, " + std::to_string(manifest.size()) + " read");
    }
    stream_bytes_ = sink.stream_bytes();
    return SendManifestAndTrailer(manifest, sink.chunks());
  }

  Status SendChunks(OrderedWorkers<Chunk>* workers, const ArchiveCounters& counters,
                    BufferPool* pool) {
    uint64_t raw_sent = 0;
    while (true) {
      OrderedWorkers<Chunk>::Backlog backlog = workers->Count();
      level_->Observe({backlog.ready, backlog.unstarted, workers->capacity(), raw_sent,
                       AdaptiveLevel::Clock::now()});
      Status status;
      std::optional<Chunk> chunk = workers->Next(&status);
      if (!chunk) return status;
      FrameHeader header;
      header.type = FrameType::kData;
      header.seq = chunk->seq;
      header.raw_len = static_cast<uint32_t>(chunk->raw.size());
      header.checksum = chunk->checksum;
      header.flags = chunk->compressed ? kFlagZstd : 0;
      const Buffer& payload = chunk->compressed ? chunk->packed : chunk->raw;
      header.payload_len = static_cast<uint32_t>(payload.size());
      XFER_RETURN_IF_ERROR(SendFrame(header, payload.data()));
      raw_sent += header.raw_len;
      stream_digest_.AddChunk(header.raw_len, header.checksum);
      pool->Give(std::move(chunk->raw));
      pool->Give(std::move(chunk->packed));
      Progress progress;
      progress.total_bytes = total_bytes_;
      progress.done_bytes = counters.content_bytes_read.load();
      progress.entries_done = counters.entries_written.load();
      progress.wire_bytes = channel_->BytesSent();
      pacer_.Tick(progress);
    }
  }

  Status SendManifestAndTrailer(const Manifest& manifest, uint64_t data_frames) {
    std::string encoded;
    uint64_t seq = 0;
    auto flush = [&]() -> Status {
      FrameHeader header;
      header.type = FrameType::kManifest;
      header.seq = seq++;
      header.raw_len = header.payload_len = static_cast<uint32_t>(encoded.size());
      header.checksum =
          ChunkChecksum(reinterpret_cast<const uint8_t*>(encoded.data()), encoded.size());
      Status status = SendFrame(header, reinterpret_cast<const uint8_t*>(encoded.data()));
      encoded.clear();
      return status;
    };
    for (const ManifestRecord& record : manifest) {
      AppendManifestRecord(record, &encoded);
      while (encoded.size() >= options_.chunk_size) {
        std::string rest = encoded.substr(options_.chunk_size);
        encoded.resize(options_.chunk_size);
        XFER_RETURN_IF_ERROR(flush());
        encoded = std::move(rest);
      }
    }
    if (!encoded.empty()) XFER_RETURN_IF_ERROR(flush());
    Trailer trailer;
    trailer.stream_bytes = stream_bytes_;
    trailer.data_frames = data_frames;
    trailer.manifest_records = manifest.size();
    trailer.stream_digest = stream_digest_.Finish();
    return WriteControl(channel_.get(), FrameType::kTrailer, EncodeTrailer(trailer), IdleDeadline(),
                        options_.cancel);
  }

  // The receiver verifies, syncs and renames before it answers; that can take a while for a
  // large tree, so the wait is the overall timeout rather than the idle one.
  Status AwaitVerdict() {
    std::string payload;
    Status status = ReadControl(channel_.get(), FrameType::kResult, "receiver", &payload,
                                Deadline::After(options_.timeout), options_.cancel);
    if (!status.ok() && status.code() != Code::kPeerFailed) {
      return Status(status.code(),
                    "waiting for the receiver's verdict from " + Where() + ": " + status.message());
    }
    return status;
  }

  const SendOptions& options_;
  std::optional<AdaptiveLevel> level_;  // set once connected: it depends on where the peer is
  ProgressPacer pacer_;
  std::unique_ptr<Channel> channel_;
  uint64_t total_bytes_ = 0;
  uint64_t stream_bytes_ = 0;
  int threads_ = 0;
  StreamDigest stream_digest_;
};

}  // namespace

Status Send(const SendOptions& options, Report* report) {
  ScopedSigpipeBlock no_sigpipe;
  SendSession session(options);
  return session.Run(report);
}

}  // namespace xfer
