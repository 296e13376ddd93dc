// Sending side of a transfer: reads files, compresses, checksums and streams them to one or more
// receivers that handed out tickets.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "xfer/cancel.h"
#include "xfer/destination.h"
#include "xfer/report.h"
#include "xfer/status.h"

namespace xfer {

struct SendOptions {
  // The receivers, each with the ticket it printed. The source is read and compressed once and
  // every receiver gets the same frames; one that fails is dropped and the others go on.
  std::vector<Destination> destinations;
  // What is sent: files and directories (paths, each under its basename), or exactly one of
  // file_list, from_archive, exec or stream_fd instead.
  std::vector<std::string> paths;
  // Exactly these names, relative to file_list_dir ("" : the working directory), as
  // `tar -C DIR -T LIST --no-recursion` would: a listed directory comes without its content
  // unless that is listed too; unlisted parents come too, before their children, with their
  // metadata. Refused, naming the line: absolute names, "..", names that do not exist, a path
  // through a symlink. file_list_origin names the list in messages ("list.txt", "stdin").
  std::vector<std::string> file_list;
  std::string file_list_dir;
  std::string file_list_origin;
  // The entries of an existing archive file in any format libarchive reads (tar, pax, zip; gzip,
  // zstd, xz...), with strip_components leading path components removed (an entry left without
  // a name is skipped); the receiver extracts them with every check a tree gets.
  std::string from_archive;
  int strip_components = 0;
  // A byte stream instead of files: the standard output of the command exec (argv; argv[0]
  // looked up in PATH; no shell), started once every receiver accepted; or what stream_fd
  // (e.g. 0) yields until it ends. The command's exit status is part of the result: a non-zero
  // exit fails the transfer at both ends, and the receivers commit nothing. Silence from the
  // stream longer than idle_timeout fails the transfer too.
  std::vector<std::string> exec;
  int stream_fd = -1;
  bool compress = true;
  int level = 0;                      // zstd level 1 to 19, or 0: adapt per chunk to the bottleneck
  int threads = 0;                    // compression threads; 0: the idle cores
  uint32_t chunk_size = 1 << 20;      // bytes of pax stream per frame, 64 KiB to 16 MiB
  std::chrono::seconds timeout{300};  // connecting, and waiting for the verdicts
  // Longest silence of a receiver while streaming (with one receiver: the longest a frame may
  // take to leave).
  std::chrono::seconds idle_timeout{60};
  // Among several receivers: one that takes no frame for this long is dropped ("stalled: no
  // progress for 10 s") and the others go on, instead of waiting on it. Keep it under the
  // receivers' idle timeout, so that they do not give up first.
  std::chrono::seconds stall_timeout{10};
  // Most bytes per second this host puts on the wire, summed over every receiver (TLS records
  // included), so that a busy host keeps serving while it copies; 0: no limit. Any 10 s stays
  // within a burst of 0.1 s of it (1%), or one frame when a chunk is more than that (at rates
  // under 10 chunks/s). Send refuses a rate so low that one frame would keep the receivers
  // waiting more than half the idle timeout.
  uint64_t limit_rate = 0;
  // Resume an interrupted transfer: the receivers (started with resume too) say what they hold
  // of it, and what every one of them holds, and is still the same here (metadata, and the
  // bytes, read and digested), is not sent again. With nothing held it is a whole transfer.
  bool resume = false;
  std::chrono::milliseconds progress_interval{1000};
  ProgressCallback progress;
  LogCallback log;
  const CancelToken* cancel = nullptr;  // optional; Cancel() makes Send fail promptly
};

// Runs one transfer. Success means every receiver verified every checksum and made the data
// durable. Otherwise the error says how many receivers failed and why each did; with several
// destinations report->peers holds each one's outcome (in the order of `destinations`), and the
// rest of *report is filled when at least one of them succeeded. Blocks SIGPIPE on the calling
// thread while it runs.
Status Send(const SendOptions& options, Report* report);

// What Send checks of a limit_rate before connecting: that one frame of chunk_size to each of
// `receivers` takes at most half of idle_timeout at that rate. For a caller that starts a sender
// elsewhere and wants to refuse a hopeless rate before anything starts.
Status CheckLimitRate(uint64_t limit_rate, uint32_t chunk_size, size_t receivers,
                      std::chrono::seconds idle_timeout);

// Reads a list of names for file_list as xfer-send --files-from does: one per line, or ending
// with NUL (nul_separated); path "-" is stdin, read to its end. Sets options->file_list and
// file_list_origin. Fails naming the list: "files-from list.txt: No such file or directory".
Status LoadFileList(const std::string& path, bool nul_separated, SendOptions* options);

// What a send of some paths would carry: the totals of the metadata-only walk Send starts with.
struct SourceSurvey {
  std::vector<std::string> top_names;  // the names the destination would get, in order
  uint64_t entries = 0;                // every entry, directories included
  uint64_t files = 0;                  // regular files (an inode with several links once)
  uint64_t content_bytes = 0;          // file content
  uint64_t allocated_bytes = 0;        // what the files occupy on disk (holes not counted)
};

// Walks the source options name (paths, a file list or an archive file) as Send would, reading
// no file content and connecting nowhere; a stream has nothing to survey. Fails as Send would,
// naming the path: a missing or unreadable source, two paths with the same basename.
Status SurveySources(const SendOptions& options, SourceSurvey* out);

}  // namespace xfer
