// The sending pipeline:
//   reader thread: WriteArchive -> ChunkingSink (fixed-size chunks from a BufferPool)
//   -> OrderedWorkers: XXH3-64 + zstd per chunk, on `threads` threads
//   -> this thread: DATA frames in order, then MANIFEST frames, TRAILER, and the receiver's RESULT,
//      each frame written to every receiver still up (ReceiverLink), one after the other, once
//      the rate limit (RateLimiter, when there is one) has credit for it.
// The source is read and compressed once however many receivers there are. A receiver that fails
// is dropped and the others go on; the transfer stops only when none is left.
#include "xfer/sender.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <thread>

#include "adaptive_level.h"
#include "buffer_pool.h"
#include "chunk_codec.h"
#include "ordered_workers.h"
#include "rate_limiter.h"
#include "receiver_link.h"
#include "record_frames.h"
#include "send_source.h"
#include "socket.h"
#include "staging_dir.h"
#include "stream_digest.h"
#include "transfer_common.h"
#include "wire_format.h"

namespace xfer {

namespace {

constexpr uint32_t kMinChunkSize = 64 << 10;

// The rate limit's burst: 0.1 s of credit keeps any 10 s window within 1% of the rate, and is
// still many frames at the rates worth limiting to.
constexpr std::chrono::milliseconds kRateBurst{100};

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

  Status Flush() override { return current_.raw.size() > 0 ? Submit() : Status::Ok(); }

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
      : options_(options), pacer_(options.progress, options.progress_interval) {
    for (const Destination& destination : options.destinations) {
      std::string role =
          options.destinations.size() == 1
              ? "receiver"
              : "receiver " + JoinHostPort(destination.host, destination.ticket.port);
      links_.emplace_back(destination, std::move(role), options.cancel);
    }
    if (options.limit_rate > 0) {
      uint64_t burst = options.limit_rate / (std::chrono::milliseconds(1000) / kRateBurst);
      limiter_.emplace(options.limit_rate, burst, Clock::now());
    }
  }

  Status Run(Report* report) {
    XFER_RETURN_IF_ERROR(ValidateOptions());
    if (limiter_ && options_.log) {
      std::string shared = links_.size() > 1 ? ", all receivers together" : "";
      options_.log(LogLevel::kInfo,
                   "limiting the wire to " + FormatBytes(options_.limit_rate) + "/s" + shared);
    }
    if (links_.size() > 1 && options_.log) {
      options_.log(LogLevel::kInfo, "a receiver that takes no data for " +
                                        std::to_string(options_.stall_timeout.count()) +
                                        " s is dropped");
    }
    XFER_RETURN_IF_ERROR(SendSource::Open(options_, &source_));
    SourceSummary summary;
    Status status = ConnectAll();
    if (status.ok()) status = source_->Summarize(&summary);
    if (status.ok()) status = Announce(summary);
    if (status.ok()) status = Stream(summary);
    if (status.ok()) status = AwaitVerdicts();
    // A failure while links were still up stopped the transfer as a whole (the source, the
    // caller): every receiver hears why, and that is the outcome.
    bool stopped = !status.ok() && LiveLinks() > 0;
    for (ReceiverLink& link : links_) {
      if (!link.alive()) continue;
      if (stopped) {
        link.Fail(status);
      } else {
        link.Finish();
      }
    }
    if (status.ok()) {
      report->entries = summary.entries;
      report->files = summary.files;
      report->content_bytes = source_->stream() ? stream_bytes_ : summary.content_bytes;
      report->stream_bytes = stream_bytes_;
      report->wire_bytes = 0;
      for (const ReceiverLink& link : links_) {
        report->wire_bytes += link.BytesSent() + link.BytesReceived();
      }
      report->seconds = pacer_.Seconds();
      report->threads = threads_;
      report->stream_digest = DigestHex(stream_digest_.Finish());
      report->resumed_files = resumed_files_;
      report->resumed_bytes = resumed_bytes_;
    }
    if (links_.size() > 1) {
      report->peers.clear();
      for (const ReceiverLink& link : links_) {
        report->peers.push_back({link.destination().host, link.alive(), link.failure().message()});
      }
    }
    return stopped ? status : Outcome();
  }

 private:
  Status ValidateOptions() const {
    if (options_.destinations.empty()) {
      return Status(Code::kInvalidArgument, "no receiver to send to");
    }
    for (const Destination& destination : options_.destinations) {
      if (destination.host.empty()) {
        return Status(Code::kInvalidArgument, "a receiver host is empty");
      }
    }
    if (options_.level < 0 || options_.level > 19) {
      return Status(Code::kInvalidArgument, "compression level must be from 1 to 19 (0: adaptive)");
    }
    if (options_.chunk_size < kMinChunkSize || options_.chunk_size > kMaxChunkSize) {
      return Status(Code::kInvalidArgument, "chunk size must be from 64 KiB to 16 MiB");
    }
    if (options_.stall_timeout.count() <= 0) {
      return Status(Code::kInvalidArgument, "the stall timeout must be at least 1 s");
    }
    return ValidateLimitRate();
  }

  Status ValidateLimitRate() const {
    if (options_.limit_rate == 0) return Status::Ok();
    return CheckLimitRate(options_.limit_rate, options_.chunk_size, options_.destinations.size(),
                          options_.idle_timeout);
  }

  // How long one frame may take to leave. Among several receivers, one that stopped reading
  // holds back the others: it is dropped after stall_timeout, well before their own idle timeout.
  Deadline WriteDeadline() const {
    return Deadline::After(links_.size() > 1 ? options_.stall_timeout : options_.idle_timeout);
  }

  // A frame to link, within WriteDeadline(); among several receivers a timeout is the stall
  // that gets it dropped, said so.
  Status Stalled(const ReceiverLink& link, Status status) const {
    if (links_.size() == 1 || status.code() != Code::kTimeout) return status;
    return Status(Code::kTimeout, "sending to " + link.Where() + ": stalled: no progress for " +
                                      std::to_string(options_.stall_timeout.count()) + " s");
  }

  Status SendFrameTo(ReceiverLink& link, const FrameHeader& header, const uint8_t* payload) {
    return Stalled(link, link.SendFrame(header, payload, WriteDeadline()));
  }

  uint64_t BytesSent() const {
    uint64_t sent = 0;
    for (const ReceiverLink& link : links_) sent += link.BytesSent();
    return sent;
  }

  size_t LiveLinks() const {
    return std::count_if(links_.begin(), links_.end(),
                         [](const ReceiverLink& link) { return link.alive(); });
  }

  // Fails once every link was dropped: nothing is left to send to.
  Status AnyLeft() const {
    if (LiveLinks() == 0) return Status(Code::kNetwork, "no receiver left");
    return Status::Ok();
  }

  void Drop(ReceiverLink& link, const Status& status) {
    link.Fail(status);
    size_t live = LiveLinks();
    // Once none is left, the error the transfer ends with tells it all.
    if (live > 0 && options_.log) {
      options_.log(LogLevel::kWarning,
                   "dropped " + link.Where() + ", going on with " + std::to_string(live) + " of " +
                       std::to_string(links_.size()) + " receivers: " + status.message());
    }
  }

  // Runs step on every live link in turn, dropping each it fails for. Fails only when the caller
  // cancelled or no link is left; either stops the transfer.
  Status Broadcast(const std::function<Status(ReceiverLink&)>& step) {
    for (ReceiverLink& link : links_) {
      if (!link.alive()) continue;
      Status status = step(link);
      if (status.code() == Code::kCancelled) return status;
      if (!status.ok()) Drop(link, status);
    }
    return AnyLeft();
  }

  // Connects to every destination at once, so that one slow to answer does not eat the others'
  // time to connect.
  Status ConnectAll() {
    Deadline deadline = Deadline::After(options_.timeout);
    std::vector<Status> results(links_.size());
    std::vector<std::thread> connecting;
    for (size_t i = 0; i < links_.size(); ++i) {
      connecting.emplace_back([this, i, deadline, &results] {
        ScopedSigpipeBlock no_sigpipe;  // the handshake writes to the socket
        results[i] = links_[i].Connect(deadline, options_.log);
      });
    }
    for (std::thread& thread : connecting) thread.join();
    bool all_local = true;
    for (size_t i = 0; i < links_.size(); ++i) {
      if (results[i].code() == Code::kCancelled) return results[i];
      if (!results[i].ok()) {
        Drop(links_[i], results[i]);
        continue;
      }
      all_local = all_local && links_[i].local();
      if (options_.log) {
        options_.log(LogLevel::kInfo,
                     "connected to " + links_[i].Where() + " (" + links_[i].Describe() + ")");
      }
    }
    level_.emplace(options_.level, all_local);
    return AnyLeft();
  }

  Status Announce(const SourceSummary& summary) {
    Hello hello;
    hello.chunk_size = options_.chunk_size;
    hello.entries = summary.entries;
    hello.files = summary.files;
    hello.content_bytes = summary.content_bytes;
    hello.allocated_bytes = summary.allocated_bytes;
    hello.top_names = summary.top_names;
    hello.resume = options_.resume;
    hello.stream = source_->stream();
    total_bytes_ = summary.content_bytes;
    std::string encoded = EncodeHello(hello);
    // Every receiver checks its HELLO meanwhile; the ACCEPTs are then read in turn.
    Deadline deadline = Deadline::After(options_.timeout);
    XFER_RETURN_IF_ERROR(
        Broadcast([&](ReceiverLink& link) { return link.SendHello(encoded, deadline); }));
    if (!options_.resume) {
      return Broadcast([&](ReceiverLink& link) { return link.AwaitAccept(deadline); });
    }
    std::vector<HeldFiles> offers(links_.size());
    XFER_RETURN_IF_ERROR(Broadcast([&](ReceiverLink& link) {
      return link.AwaitAccept(deadline, summary.files, &offers[&link - links_.data()]);
    }));
    held_ = CommonOffers(&offers);
    return Status::Ok();
  }

  // One stream serves every receiver, so only what each of them holds alike can be skipped.
  HeldFiles CommonOffers(std::vector<HeldFiles>* offers) const {
    HeldFiles common;
    bool first = true;
    for (size_t i = 0; i < links_.size(); ++i) {
      if (!links_[i].alive()) continue;
      if (first) {
        common = std::move((*offers)[i]);
        first = false;
        continue;
      }
      KeepCommonHeld((*offers)[i], &common);
    }
    return common;
  }

  Status SendFrame(const FrameHeader& header, const uint8_t* payload) {
    if (!limiter_) {
      return Broadcast([&](ReceiverLink& link) { return SendFrameTo(link, header, payload); });
    }
    // The limit is on the host's wire: every live link carries the frame.
    int64_t charged = static_cast<int64_t>((kFrameHeaderSize + header.payload_len) * LiveLinks());
    limiter_->Charge(charged, Clock::now());
    XFER_RETURN_IF_ERROR(AwaitCredit());
    uint64_t before = BytesSent();
    Status status =
        Broadcast([&](ReceiverLink& link) { return SendFrameTo(link, header, payload); });
    // What the sockets really took (TLS records add a little; a link dropped mid-frame took
    // less) settles the account, so the limit holds for the bytes on the wire.
    limiter_->Charge(static_cast<int64_t>(BytesSent() - before) - charged, Clock::now());
    return status;
  }

  // Waits until the rate limiter's debt is paid; a cancel cuts the wait short.
  Status AwaitCredit() {
    for (;;) {
      std::chrono::nanoseconds delay = limiter_->Delay(Clock::now());
      if (delay.count() == 0) return Status::Ok();
      if (options_.cancel == nullptr) {
        std::this_thread::sleep_for(delay);
        continue;
      }
      pollfd cancel_fd{options_.cancel->fd(), POLLIN, 0};
      int timeout_ms =
          static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(delay).count());
      if (poll(&cancel_fd, 1, timeout_ms) < 0 && errno != EINTR) {
        return Status::FromErrno(errno, "waiting for the rate limit");
      }
      if (options_.cancel->IsCancelled()) {
        return Status(Code::kCancelled, "waiting for the rate limit: cancelled");
      }
    }
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
      reader_status = source_->Write(&sink, &stop_reader, held_.empty() ? nullptr : &held_,
                                     &manifest, &counters);
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
    resumed_files_ = counters.resumed_files.load();
    resumed_bytes_ = counters.resumed_bytes.load();
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
      progress.wire_bytes = BytesSent();
      pacer_.Tick(progress);
    }
  }

  Status SendManifestAndTrailer(const Manifest& manifest, uint64_t data_frames) {
    RecordFramer framer(FrameType::kManifest, options_.chunk_size,
                        [this](const FrameHeader& header, const uint8_t* payload) {
                          return SendFrame(header, payload);
                        });
    std::string encoded;
    for (const ManifestRecord& record : manifest) {
      encoded.clear();
      AppendManifestRecord(record, &encoded);
      XFER_RETURN_IF_ERROR(framer.Add(encoded));
    }
    XFER_RETURN_IF_ERROR(framer.Flush());
    Trailer trailer;
    trailer.stream_bytes = stream_bytes_;
    trailer.data_frames = data_frames;
    trailer.manifest_records = manifest.size();
    trailer.stream_digest = stream_digest_.Finish();
    std::string encoded_trailer = EncodeTrailer(trailer);
    return Broadcast([&](ReceiverLink& link) {
      return Stalled(link, link.SendTrailer(encoded_trailer, WriteDeadline()));
    });
  }

  // The receivers verify, sync and rename before they answer; that can take a while for a large
  // tree, so the wait is the overall timeout rather than the idle one. They all work at once, so
  // one deadline covers reading their verdicts in turn.
  Status AwaitVerdicts() {
    Deadline deadline = Deadline::After(options_.timeout);
    return Broadcast([&](ReceiverLink& link) { return link.AwaitVerdict(deadline); });
  }

  // Success when every receiver verified and committed; otherwise which failed, and why.
  Status Outcome() const {
    std::vector<const ReceiverLink*> failed;
    for (const ReceiverLink& link : links_) {
      if (!link.alive()) failed.push_back(&link);
    }
    if (failed.empty()) return Status::Ok();
    if (links_.size() == 1) return failed[0]->failure();
    std::string message = std::to_string(failed.size()) + " of " + std::to_string(links_.size()) +
                          " receivers failed";
    for (size_t i = 0; i < failed.size(); ++i) {
      message += (i == 0 ? ": " : "; ") + failed[i]->failure().message();
    }
    return Status(failed[0]->failure().code(), std::move(message));
  }

  const SendOptions& options_;
  std::unique_ptr<SendSource> source_;
  std::vector<ReceiverLink> links_;
  std::optional<AdaptiveLevel> level_;  // set once connected: it depends on where the peers are
  ProgressPacer pacer_;
  uint64_t total_bytes_ = 0;
  uint64_t stream_bytes_ = 0;
  int threads_ = 0;
  HeldFiles held_;  // with resume: what every receiver holds
  uint64_t resumed_files_ = 0;
  uint64_t resumed_bytes_ = 0;
  StreamDigest stream_digest_;
  std::optional<RateLimiter> limiter_;  // set with a limit_rate
};

}  // namespace

// A frame waits for its credit before it is written, and meanwhile the receivers hear nothing:
// that wait must leave half of their idle timeout (assumed to be ours) for the write itself.
// A rate too low for that is refused rather than frames split: the receiver gives each whole
// frame one idle timeout, and smaller frames are what a smaller chunk size already gives. (The
// floor is about 34 KiB/s for 1 MiB chunks and the default 60 s.)
Status CheckLimitRate(uint64_t limit_rate, uint32_t chunk_size, size_t receivers,
                      std::chrono::seconds idle_timeout) {
  uint64_t frame = (kFrameHeaderSize + chunk_size) * receivers;
  uint64_t half_idle_s = std::max<int64_t>(idle_timeout.count() / 2, 1);
  uint64_t least = (frame + half_idle_s - 1) / half_idle_s;
  if (limit_rate >= least) return Status::Ok();
  std::string per_receiver =
      receivers > 1 ? " to each of " + std::to_string(receivers) + " receivers" : "";
  uint64_t frame_s = (frame + limit_rate - 1) / limit_rate;
  return Status(Code::kInvalidArgument,
                "rate limit of " + FormatBytes(limit_rate) + "/s is too low for " +
                    FormatBytes(chunk_size) + " chunks" + per_receiver + ": each would take " +
                    std::to_string(frame_s) + " s to send, more than half the receivers' " +
                    std::to_string(idle_timeout.count()) + " s idle timeout; allow at least " +
                    FormatBytes(least) + "/s, or send smaller chunks");
}

Status Send(const SendOptions& options, Report* report) {
  ScopedSigpipeBlock no_sigpipe;
  SendSession session(options);
  return session.Run(report);
}

}  // namespace xfer
