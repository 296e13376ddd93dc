// The receiving pipeline:
//   accept loop (connection_gate.h): up to 16 handshakes at once; connections that fail
//   authentication are logged and dropped; once the sender is in, later ones are refused
//   network thread: frames -> OrderedWorkers (zstd + XXH3-64 check per chunk, in parallel)
//   this thread: in-order chunks -> ExtractArchive into the staging directory -> manifest and
//   trailer checks -> sync -> (--checksum: re-read from disk) -> rename into place -> RESULT to
//   the sender.
//   with options.forward, a Forwarder replays the verified frames to the next receiver of a
//   chain, and its TRAILER as soon as it arrived whole, so that every copy commits at once. When
//   this copy fails (refused, disk full, a command that failed) while the stream is sound, the
//   rest of the stream still goes through to the downstream, which verifies it on its own.
#include "xfer/receiver.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <thread>
#include <unordered_set>

#include "archive_extractor.h"
#include "archive_file_output.h"
#include "cancel_relay.h"
#include "command_process.h"
#include "connection_gate.h"
#include "forwarder.h"
#include "frame_io.h"
#include "ordered_workers.h"
#include "received_stream.h"
#include "receiver_preflight.h"
#include "record_frames.h"
#include "reread_check.h"
#include "resume_journal.h"
#include "resume_recorder.h"
#include "socket.h"
#include "staging_dir.h"
#include "stream_output.h"
#include "transfer_common.h"

namespace xfer {

namespace {

constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
// Handshakes at once, and silent connections held, while waiting for the sender (see
// connection_gate.h): together they bound what a flood of connections costs the receiver.
constexpr size_t kMaxHandshakes = 16;
constexpr size_t kMaxWaiting = 256;
// How long a command that stopped reading its input has to exit and say why.
constexpr auto kCommandExitGrace = std::chrono::seconds(5);

}  // namespace

struct Receiver::State {
  ReceiveOptions options;
  Socket listener;
  uint16_t port = 0;
  Ticket ticket;
  bool ran = false;
  std::unique_ptr<ArchiveFileOutput> archive;  // with options.to_archive, made by Listen
};

Receiver::Receiver(std::unique_ptr<State> state) : state_(std::move(state)) {}
Receiver::~Receiver() = default;

const Ticket& Receiver::ticket() const { return state_->ticket; }
uint16_t Receiver::port() const { return state_->port; }

namespace {

// Checks that options name one output, with what it needs: a destination directory to extract
// into or to run a command in, and none for a descriptor.
Status CheckOutput(const ReceiveOptions& options) {
  int outputs = !options.exec.empty() + (options.output_fd >= 0) + !options.to_archive.empty();
  if (outputs > 1) {
    return Status(Code::kInvalidArgument,
                  "receive into one output: a command, a descriptor or an archive file");
  }
  if ((options.resume || options.reread_check) && outputs > 0) {
    return Status(Code::kInvalidArgument,
                  "resume and re-reading work when extracting files, not for a command's input, "
                  "a stream written out or an archive file");
  }
  if ((!options.same_owner || !options.devices || !options.setuid) && outputs > 0) {
    return Status(Code::kInvalidArgument,
                  "--no-same-owner, --no-devices and --no-setuid apply to extracted files, not "
                  "to a command's input, a stream written out or an archive file");
  }
  if (!options.exec.empty()) XFER_RETURN_IF_ERROR(CommandProcess::CheckRunnable(options.exec));
  if (options.output_fd >= 0 || !options.to_archive.empty()) {
    if (!options.dest_dir.empty()) {
      return Status(Code::kInvalidArgument,
                    "a stream written out or an archive file takes no destination directory");
    }
    return Status::Ok();
  }
  struct stat st;
  if (stat(options.dest_dir.c_str(), &st) != 0) {
    return Status::FromErrno(errno, "destination " + options.dest_dir);
  }
  if (!S_ISDIR(st.st_mode)) {
    return Status(Code::kInvalidArgument,
                  "destination " + options.dest_dir + " is not a directory");
  }
  return Status::Ok();
}

}  // namespace

Status Receiver::Listen(const ReceiveOptions& options, std::unique_ptr<Receiver>* out) {
  XFER_RETURN_IF_ERROR(CheckOutput(options));
  auto state = std::make_unique<State>();
  state->options = options;
  if (!options.to_archive.empty()) {
    XFER_RETURN_IF_ERROR(
        ArchiveFileOutput::Create(options.to_archive, options.overwrite, &state->archive));
    state->archive->SetCompression(
        options.archive_level > 0 ? options.archive_level : ArchiveFileOutput::kDefaultZstdLevel,
        options.threads);
  }
  XFER_RETURN_IF_ERROR(
      ListenTcp(options.listen_address, options.port, &state->listener, &state->port));
  XFER_RETURN_IF_ERROR(Ticket::Generate(state->port, options.encrypt, &state->ticket));
  out->reset(new Receiver(std::move(state)));
  return Status::Ok();
}

namespace {

class ReceiveSession {
 public:
  ReceiveSession(const ReceiveOptions& options, const Ticket& ticket, ArchiveFileOutput* archive)
      : options_(options),
        ticket_(ticket),
        archive_(archive),
        pacer_(options.progress, options.progress_interval) {
    if (options.forward) forwarder_ = std::make_unique<Forwarder>(options);
  }

  Status Run(Socket* listener, Report* report) {
    Status status = AcceptSender(listener);
    // One transfer: whoever connects now is turned away, by a thread of its own, at the cost of an
    // accept and a close, until this returns.
    std::optional<ConnectionRefuser> refuser;
    if (status.ok()) refuser.emplace(std::move(*listener), options_.log);
    *listener = Socket();
    if (status.ok()) status = ReceiveAll(report);
    if (!status.ok()) {
      if (channel_) SendErrorAndClose(channel_.get(), status);
      SenderDone();
      KeepForResume();
      if (forwarder_) report->peers.push_back(forwarder_->Abort(status));
      return status;
    }
    Status told = WriteControl(channel_.get(), FrameType::kResult, "",
                               Deadline::After(options_.idle_timeout), options_.cancel);
    if (!told.ok()) {
      // The data is committed and durable; only the sender's confirmation was lost.
      Log(LogLevel::kWarning,
          "the transfer is complete but the sender could not be told: " + told.message());
    }
    channel_->CloseWrite();
    SenderDone();
    if (forwarder_) report->peers.push_back(forwarder_->Wait());
    report->wire_bytes = channel_->BytesSent() + channel_->BytesReceived();
    report->seconds = pacer_.Seconds();
    return Status::Ok();
  }

 private:
  void Log(LogLevel level, const std::string& line) const {
    if (options_.log) options_.log(level, line);
  }

  void SenderDone() const {
    if (options_.sender_done) options_.sender_done();
  }

  Status AcceptSender(Socket* listener) {
    GateOptions gate;
    gate.max_handshakes = kMaxHandshakes;
    gate.max_waiting = kMaxWaiting;
    gate.handshake_timeout = kHandshakeTimeout;
    gate.deadline = Deadline::After(options_.timeout);
    gate.cancel = options_.cancel;
    gate.log = options_.log;
    ChannelParams params;
    params.secret = ticket_.secret;
    params.encrypt = ticket_.encrypt;
    auto handshake = [&params](Socket socket, Deadline deadline, const CancelToken* cancel,
                               std::unique_ptr<Channel>* out) {
      return OpenServerChannel(std::move(socket), params, deadline, cancel, out);
    };
    std::string peer;
    Status status = AcceptAuthenticated(*listener, gate, handshake, &channel_, &peer);
    if (status.code() == Code::kTimeout) {
      return Status(Code::kTimeout, "no sender connected within " +
                                        std::to_string(options_.timeout.count()) + " s");
    }
    XFER_RETURN_IF_ERROR(status);
    Log(LogLevel::kInfo, "sender connected from " + peer + " (" + channel_->Describe() + ")");
    return Status::Ok();
  }

  Status ReadHello(std::string* payload, Hello* hello) {
    XFER_RETURN_IF_ERROR(ReadControl(channel_.get(), FrameType::kHello, "sender", payload,
                                     Deadline::After(options_.idle_timeout), options_.cancel));
    return DecodeHello(*payload, hello);
  }

  // Checks the HELLO against the destination and prepares the staging directory: with resume
  // (asked by both sides), the one an interrupted transfer of the same names left, if any.
  Status Admit(const Hello& hello) {
    bool exec = !options_.exec.empty();
    if (hello.stream && !exec && options_.output_fd < 0) {
      std::string into = archive_ != nullptr ? "an archive file holds files; " : "";
      return Status(Code::kInvalidArgument,
                    "the sender sends a byte stream (xfer-send --exec or --stdin), not files: " +
                        into + "receive it with xfer-recv --exec or --stdout");
    }
    if (options_.output_fd >= 0 || archive_ != nullptr) return Status::Ok();  // nothing is staged
    // A command may create any names; the rename into place checks them.
    const std::vector<std::string> none;
    const std::vector<std::string>& names = exec ? none : hello.top_names;
    uint64_t held_allocated = 0;
    // Leftovers another user could have written are never adopted nor removed: said once each.
    std::vector<std::string> foreign;
    if (options_.resume && hello.resume) {
      XFER_RETURN_IF_ERROR(StagingDir::Adopt(options_.dest_dir, names, &staging_, &held_,
                                             &held_allocated, &foreign));
      adopted_ = !staging_.path().empty();
    }
    if (staging_.path().empty()) {
      size_t removed = 0;
      foreign.clear();
      XFER_RETURN_IF_ERROR(StagingDir::RemoveStale(options_.dest_dir, names, &removed, &foreign));
      if (removed > 0) {
        Log(LogLevel::kInfo, "removed " + std::to_string(removed) +
                                 " staging directories left by interrupted transfers");
      }
    }
    for (const std::string& line : foreign) Log(LogLevel::kWarning, line);
    // What the adopted staging directory holds is on the disk already, except that a held
    // prefix is copied into a new file before the old one goes: that needs its room again.
    uint64_t copied = 0;
    for (const auto& [path, file] : held_) copied += file.have < file.size ? file.have : 0;
    uint64_t need = hello.allocated_bytes - std::min(held_allocated, hello.allocated_bytes);
    need = std::min(need + copied, hello.allocated_bytes);
    XFER_RETURN_IF_ERROR(
        CheckAdmission(options_.dest_dir, names, options_.overwrite, need, hello.entries));
    if (staging_.path().empty()) {
      XFER_RETURN_IF_ERROR(StagingDir::Create(options_.dest_dir, names, &staging_));
    } else {
      uint64_t bytes = 0;
      for (const auto& [path, file] : held_) bytes += file.have;
      Log(LogLevel::kInfo, "resuming: " + std::to_string(held_.size()) + " files (" +
                               FormatBytes(bytes) + ") held in " + staging_.path());
    }
    if (options_.resume) {
      std::unordered_set<std::string> vouched;
      for (const auto& [path, file] : held_) vouched.insert(path);
      recorder_.emplace(
          staging_.journal(), [this] { return staging_.Sync(); }, std::move(vouched));
    }
    return Status::Ok();
  }

  // Answers the HELLO: with resume asked, first what this receiver (and, in a chain, every
  // receiver after it) holds, which is then all a resumed entry may claim.
  Status Accept(const Hello& hello) {
    Deadline deadline = Deadline::After(options_.idle_timeout);
    if (!hello.resume) {
      return WriteControl(channel_.get(), FrameType::kAccept, "", deadline, options_.cancel);
    }
    const HeldFiles* downstream = forwarder_ ? forwarder_->offers() : nullptr;
    if (downstream != nullptr) KeepCommonHeld(*downstream, &held_);
    return WriteOffersAndAccept(channel_.get(), held_, hello.chunk_size, deadline, options_.cancel);
  }

  // A file whose digest differs from the sender's must not be offered again: held from an
  // interrupted transfer, it changed at the source without its metadata showing it, and the next
  // resume sends it whole.
  Status ForgetMismatched(const std::string& path, const Status& mismatch) {
    if (!recorder_) return mismatch;
    Status forgotten = recorder_->Replacing(path);
    if (!forgotten.ok()) return forgotten;
    if (held_.count(path) == 0) return mismatch;
    return Status(mismatch.code(), mismatch.message() +
                                       " (held from the interrupted transfer, it changed at the "
                                       "source since; the next --resume sends it whole)");
  }

  // A failed transfer with resume keeps its staging directory and journal, recording first what
  // was written since the last checkpoint.
  void KeepForResume() {
    if (!options_.resume || staging_.path().empty()) return;
    Status recorded = recorder_ ? recorder_->Checkpoint() : Status::Ok();
    if (!recorded.ok()) {
      Log(LogLevel::kWarning, "recording what was received for --resume: " + recorded.message());
    }
    staging_.Keep();
    Log(LogLevel::kInfo, "kept " + staging_.path() + " for --resume");
  }

  Status ReceiveAll(Report* report) {
    Hello hello;
    std::string hello_payload;
    XFER_RETURN_IF_ERROR(ReadHello(&hello_payload, &hello));
    // Refused here, the stream can still go on to a downstream, which decides for itself.
    Status own_copy = Admit(hello);
    if (!own_copy.ok() && !forwarder_) return own_copy;
    int threads = ResolveThreads(options_.threads);
    report->threads = threads;
    size_t in_flight = 2 * threads + 2;
    // Payload and raw buffers of every frame inside the pipeline, the one being extracted, and
    // those waiting to be forwarded.
    BufferPool& pool = pool_.emplace(hello.chunk_size, 2 * in_flight + 4 + Forwarder::kQueueFrames);
    // Before our ACCEPT: the sender's wait for it is the overall timeout, while its writes would
    // give up after the idle one if data had to wait for the downstream's handshake.
    if (forwarder_) forwarder_->Open(hello_payload, hello, &pool);
    if (!own_copy.ok() && !forwarder_->forwarding()) return own_copy;
    XFER_RETURN_IF_ERROR(Accept(hello));
    // At once: whoever watches (xfer) learns this receiver was reached.
    Progress accepted;
    accepted.total_bytes = hello.content_bytes;
    pacer_.Report(accepted);

    OrderedWorkers<ReceivedFrame> workers(threads, in_flight, [&pool](ReceivedFrame& frame) {
      return DecodeReceivedFrame(frame, &pool);
    });
    CancelToken stop_network;
    // Ctrl-C stops the network thread too, which may be waiting on a silent sender.
    CancelRelay relay_cancel(options_.cancel, &stop_network);
    Status network_status;
    std::thread network([&] {
      network_status = ReadFrames(&workers, &pool, &stop_network);
      if (network_status.ok()) {
        workers.Finish();
      } else {
        workers.Abort();
      }
    });

    ExtractCounters counters;
    ReceivedStream stream(&workers, &pool, hello, &counters, forwarder_.get(), [&](uint64_t done) {
      Progress progress;
      progress.total_bytes = hello.content_bytes;
      progress.done_bytes = done;
      progress.entries_done = counters.entries_written.load();
      progress.wire_bytes = channel_->BytesReceived();
      pacer_.Tick(progress);
    });
    WrittenFiles written;
    Status status = own_copy.ok() ? Consume(hello, &stream, &written, &counters) : own_copy;
    if (!status.ok()) PassOnRest(status, &stream);
    if (!status.ok()) {
      stop_network.Cancel();
      workers.Abort();
    }
    network.join();
    if (options_.cancel != nullptr && options_.cancel->IsCancelled()) {
      return Status(Code::kCancelled, "cancelled");
    }
    // The network's own failure (the sender vanished, or reported an error) explains more than
    // the pipeline's "stopped" that it caused downstream.
    if (!network_status.ok() && network_status.code() != Code::kCancelled) return network_status;
    XFER_RETURN_IF_ERROR(status);
    // The downstream had the TRAILER already, and commits meanwhile.
    XFER_RETURN_IF_ERROR(Commit(hello));
    report->entries = counters.entries_written.load();
    report->files = written.size();
    report->content_bytes =
        hello.stream ? stream.stream_bytes() : counters.content_bytes_written.load();
    report->stream_bytes = stream.stream_bytes();
    report->stream_digest = DigestHex(stream.digest());
    report->resumed_files = counters.resumed_files.load();
    report->resumed_bytes = counters.resumed_bytes.load();
    return Status::Ok();
  }

  // This copy failed with `why`. When that was not the stream's fault and the downstream still
  // takes frames, the rest of the stream goes on to it, TRAILER included: only then is the
  // sender told, since a sender that hears ERROR stops sending.
  void PassOnRest(const Status& why, ReceivedStream* stream) {
    if (!forwarder_ || !forwarder_->forwarding() || !stream->intact()) return;
    if (why.code() == Code::kCancelled) return;
    Log(LogLevel::kWarning,
        "this copy failed, forwarding the rest of the stream to the next receiver: " +
            why.message());
    Status passed = stream->ForwardRest();
    if (!passed.ok()) Log(LogLevel::kWarning, "forwarding the rest: " + passed.message());
  }

  // Reads the whole stream into its output, and checks its end (MANIFEST, TRAILER).
  Status Consume(const Hello& hello, ReceivedStream* stream, WrittenFiles* written,
                 ExtractCounters* counters) {
    // Of a byte stream, progress counts its bytes; of an archive not extracted here, nothing.
    std::atomic<uint64_t>* done = hello.stream ? &counters->content_bytes_written : nullptr;
    if (!options_.exec.empty()) return FeedCommand(stream, done);
    if (options_.output_fd >= 0) {
      bool output_failed = false;
      XFER_RETURN_IF_ERROR(DrainToFd(stream, options_.output_fd, "the output",
                                     options_.idle_timeout, options_.cancel, done, &output_failed));
      return stream->VerifyEnd(nullptr);
    }
    if (archive_ != nullptr) {
      XFER_RETURN_IF_ERROR(
          archive_->Store(stream, hello.top_names, options_.cancel, written, counters));
      return stream->VerifyEnd(written);
    }
    ExtractOptions extract;
    extract.staging_dir = staging_.anchor();
    extract.same_owner = options_.same_owner;
    extract.devices = options_.devices;
    extract.setuid = options_.setuid;
    extract.top_names = hello.top_names;
    extract.held = hello.resume ? &held_ : nullptr;
    extract.recorder = recorder_ ? &*recorder_ : nullptr;
    if (adopted_) {
      extract.prune_adopted = [this](const PathDigestSet& entry_paths) {
        return staging_.PruneExcept(entry_paths);
      };
    }
    Status status = ExtractArchive(stream, extract, options_.cancel, written, counters);
    std::optional<RereadCheck> reread;
    if (status.ok() && options_.reread_check) status = StartReread(&reread);
    ReceivedStream::MatchedFn reread_each;
    if (reread)
      reread_each = [&reread](const ManifestRecord& record) { return reread->Check(record); };
    if (status.ok()) status = stream->VerifyEnd(written, reread_each);
    if (status.ok() && reread) Log(LogLevel::kInfo, reread->stats().Describe());
    if (!stream->mismatched_path().empty()) {
      status = ForgetMismatched(stream->mismatched_path(), status);
    }
    return status;
  }

  // --exec: the command reads the stream in the staging directory, and succeeds only if it
  // exits 0 after the stream verified to its end. Until then a failure kills it.
  Status FeedCommand(ReceivedStream* stream, std::atomic<uint64_t>* done) {
    std::unique_ptr<CommandProcess> command;
    XFER_RETURN_IF_ERROR(CommandProcess::Start(options_.exec, CommandProcess::Role::kConsumer,
                                               staging_.anchor(), &command));
    bool output_failed = false;
    Status status = DrainToFd(stream, command->fd(), command->shown(), options_.idle_timeout,
                              options_.cancel, done, &output_failed);
    if (status.ok()) status = stream->VerifyEnd(nullptr);
    if (!status.ok() && output_failed) {
      // It stopped reading: most likely it failed, and its exit says why.
      Status exited = command->Wait(Deadline::After(kCommandExitGrace), options_.cancel);
      if (exited.code() == Code::kTimeout) return status;
      if (exited.ok()) {
        return Status(Code::kIoError, command->shown() + " exited before the end of the stream");
      }
      return exited;
    }
    if (!status.ok()) return status;  // the command is killed as it goes
    command->ClosePipe();
    return command->Wait(Deadline::After(options_.timeout), options_.cancel);
  }

  // --checksum: the files are re-read as the sender's MANIFEST names them, once the data is on
  // the disk (so that the re-read can drop it from the cache and read it back from there).
  Status StartReread(std::optional<RereadCheck>* reread) {
    if (options_.sync) XFER_RETURN_IF_ERROR(staging_.Sync());
    reread->emplace(options_.cancel);
    return (*reread)->Open(staging_.anchor());
  }

  // Makes the output durable and puts it in place.
  Status Commit(const Hello& hello) {
    if (options_.output_fd >= 0) return SyncOutput();
    if (archive_ != nullptr) return archive_->Commit(options_.sync);
    if (options_.sync) XFER_RETURN_IF_ERROR(staging_.Sync());
    std::vector<std::string> created;
    if (!options_.exec.empty()) XFER_RETURN_IF_ERROR(staging_.ListEntries(&created));
    std::string leftover;
    XFER_RETURN_IF_ERROR(staging_.Commit(options_.exec.empty() ? hello.top_names : created,
                                         options_.overwrite, &leftover));
    if (!leftover.empty()) Log(LogLevel::kWarning, leftover);
    return Status::Ok();
  }

  // A stream written into a file is made durable like any copy; a pipe or a terminal has nothing
  // to sync.
  Status SyncOutput() const {
    struct stat st;
    if (!options_.sync || fstat(options_.output_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      return Status::Ok();
    }
    if (fdatasync(options_.output_fd) != 0) return Status::FromErrno(errno, "syncing the output");
    return Status::Ok();
  }

  // Runs on the network thread: the only thread that touches the channel until it returns.
  Status ReadFrames(OrderedWorkers<ReceivedFrame>* workers, BufferPool* pool,
                    const CancelToken* stop) {
    while (true) {
      ReceivedFrame frame;
      frame.payload = pool->Take(0);
      Status status = ReadFrame(channel_.get(), &frame.header, &frame.payload,
                                Deadline::After(options_.idle_timeout), stop);
      if (status.code() == Code::kCancelled) return status;
      if (status.code() == Code::kCorrupt) return status;  // it came, damaged: not lost
      if (!status.ok()) {
        return Status(status.code(),
                      "connection from sender lost mid-transfer: " + status.message());
      }
      if (frame.header.type == FrameType::kError) {
        return PeerError("sender",
                         std::string_view(reinterpret_cast<const char*>(frame.payload.data()),
                                          frame.payload.size()));
      }
      bool last = frame.header.type == FrameType::kTrailer;
      if (!workers->Submit(std::move(frame))) return Status(Code::kCancelled, "transfer stopped");
      if (last) return Status::Ok();
    }
  }

  const ReceiveOptions& options_;
  const Ticket& ticket_;
  ArchiveFileOutput* archive_;  // with options.to_archive
  ProgressPacer pacer_;
  std::unique_ptr<Channel> channel_;
  StagingDir staging_;
  HeldFiles held_;        // resuming: what the staging directory holds, and then what was offered
  bool adopted_ = false;  // the staging directory is one an interrupted transfer left
  std::optional<ResumeRecorder> recorder_;  // with options.resume
  std::optional<BufferPool> pool_;          // outlives forwarder_, which gives buffers back
  std::unique_ptr<Forwarder> forwarder_;    // with options.forward
};

}  // namespace

Status Receiver::Run(Report* report) {
  if (state_->ran) return Status(Code::kInvalidArgument, "a Receiver runs one transfer only");
  state_->ran = true;
  ScopedSigpipeBlock no_sigpipe;
  ReceiveSession session(state_->options, state_->ticket, state_->archive.get());
  return session.Run(&state_->listener, report);
}

}  // namespace xfer
