// Receiving side of a transfer: listens, hands out a ticket, authenticates the sender, and writes
// the verified stream into a destination directory, all or nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "xfer/cancel.h"
#include "xfer/destination.h"
#include "xfer/report.h"
#include "xfer/status.h"
#include "xfer/ticket.h"

namespace xfer {

struct ReceiveOptions {
  std::string dest_dir;  // must exist; each top-level entry arrives as dest_dir/NAME
  // Where the transfer goes instead of being extracted into dest_dir (at most one of these):
  // exec: a command (argv, no shell; argv[0] looked up in PATH) that reads the stream on its
  // stdin, in a staging directory inside dest_dir; what it creates there is renamed into
  // dest_dir only once the stream verified and the command exited 0. The stream is a byte
  // stream from a sender's exec or stream_fd, or the pax archive of files sent. Its stdout goes
  // to our stderr.
  std::vector<std::string> exec;
  // output_fd: the stream is written to this descriptor (e.g. 1) as it arrives, each chunk once
  // verified; only the outcome says whether all of it did. dest_dir must be empty.
  int output_fd = -1;
  // to_archive: the files sent are stored as an archive file at this path instead, PATH.tar or
  // PATH.tar.zst (.tzst), byte for byte the pax stream (zstd level archive_level, 0: 1), under a
  // temporary name beside it until the stream and every file's digest verified and it is
  // durable; `tar --zstd -xpf` restores the tree, `xfer-send --from-archive` sends it again.
  // dest_dir must be empty. An existing PATH is refused when Listen runs, unless overwrite.
  std::string to_archive;
  int archive_level = 0;
  std::string listen_address;  // "" for every address
  uint16_t port = 0;           // 0: the kernel picks a free port
  bool encrypt = true;         // false: authenticated and checksummed, but in clear
  bool overwrite = false;      // replace existing dest_dir/NAME entries
  bool sync = true;            // make the data durable before committing
  bool reread_check = false;   // read every file back from disk and check its digest before
                               // committing (after the sync, bypassing the page cache)
  // Extracted files get their metadata as `tar -xp --numeric-owner` as root would give it; each
  // of these turns a part of that off (refused with exec, output_fd or to_archive).
  // false: what is written belongs to the receiving user, without setuid/setgid bits (which would
  // then be the receiving user's: setuid-root as root). Not root: always so, as with tar.
  bool same_owner = true;
  bool devices = true;  // false: refuse block and character devices, naming the entry
  bool setuid = true;   // false: clear setuid and setgid bits
  // Resumable (the default): while the transfer runs, what is written is recorded (about once a
  // second, after a sync) in a journal beside the staging directory, and a failed transfer keeps
  // both (Report::kept_*). A later receiver with resume, for the same names in the same dest_dir,
  // whose sender asks to resume, adopts them: the sender skips what is held and still the same
  // at the source. false, or a sender that does not ask to resume: what an interrupted transfer
  // kept is removed (Report::discarded_*) and the transfer starts over. Only files extracted into
  // dest_dir are resumable: with exec, output_fd or to_archive this is ignored.
  bool resume = true;
  int threads = 0;                        // decompression threads; 0: the idle cores
  std::chrono::seconds timeout{300};      // waiting for the sender to connect
  std::chrono::seconds idle_timeout{60};  // longest silence of the sender while streaming
  std::chrono::milliseconds progress_interval{1000};
  // Chain fan-out: also stream what arrives, once verified here, to this downstream receiver
  // (its TRAILER only once this copy is committed). Its failure does not fail this copy: Run
  // waits for its verdict and Report::peers tells how it fared. Its warnings may be logged from
  // the forwarding thread.
  std::optional<Destination> forward;
  ProgressCallback progress;
  // Also called, while the transfer runs, by the thread that turns away other connections (their
  // refusals: a few lines per 10 s, then a count at the end).
  LogCallback log;
  // Called once by Run, whatever the outcome, as soon as the sender is done with (it has the
  // verdict, or it is gone), before anything is cleaned up: removing a failed transfer's staging
  // directory can take long, and what was there only for the sender must not wait for it
  // (xfer-recv closes the firewall opening it made for the sender here).
  std::function<void()> sender_done;
  const CancelToken* cancel = nullptr;
};

// Whether a transfer with these options is resumable: resume, and files extracted into dest_dir
// (a command's input, a stream written out or an archive file is not).
bool IsResumable(const ReceiveOptions& options);

// What a transfer would bring, as far as the receiver's admission checks go (the figures
// SurveySources finds on the sending side).
struct IncomingTransfer {
  std::vector<std::string> names;  // top-level names, each to arrive as dest_dir/NAME
  uint64_t allocated_bytes = 0;    // what the files occupy on disk
  uint64_t entries = 0;            // every entry, directories included
};

class Receiver {
 public:
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  // Checks dest_dir and starts listening; the ticket is ready as soon as this returns.
  static Status Listen(const ReceiveOptions& options, std::unique_ptr<Receiver>* out);

  // Runs, without listening, the checks a transfer into options.dest_dir would pass once the
  // sender announced what it brings: dest_dir is a directory that takes new entries (a staging
  // directory is created there and removed at once), no dest_dir/NAME exists unless
  // options.overwrite, and the filesystem has room for the data with the same margin Run
  // demands. Sets *free_bytes to the space available there.
  static Status Preflight(const ReceiveOptions& options, const IncomingTransfer& incoming,
                          uint64_t* free_bytes);

  const Ticket& ticket() const;
  uint16_t port() const;

  // Waits for the sender and receives one transfer. Call once.
  Status Run(Report* report);

 private:
  struct State;
  explicit Receiver(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace xfer
