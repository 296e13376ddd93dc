// xfer-recv: listens, prints a ticket, receives one transfer into DIR.
#include <unistd.h>

#include <cstdio>

#include "cli_common.h"
#include "firewall_guard.h"
#include "lifeline.h"
#include "resume_flags.h"
#include "xfer/receiver.h"

namespace {

constexpr char kProgram[] = "xfer-recv";

// --preflight: the checks a transfer of `incoming` into options.dest_dir would pass, without
// listening, for `xfer` to check every host before it starts.
int RunPreflight(const xfer::ReceiveOptions& options, const std::string& need,
                 xfer::IncomingTransfer* incoming) {
  if (!xfer::cli::ParseSize(need, &incoming->allocated_bytes)) {
    std::fprintf(stderr, "%s: error: --need: '%s' is not a size like 10G\n", kProgram,
                 need.c_str());
    return xfer::cli::kExitUsage;
  }
  uint64_t free_bytes = 0;
  xfer::Status status = xfer::Receiver::Preflight(options, *incoming, &free_bytes);
  if (!status.ok()) return xfer::cli::ReportError(kProgram, status);
  std::printf("%s\n",
              xfer::cli::PreflightJson("\"free_bytes\":" + std::to_string(free_bytes)).c_str());
  return xfer::cli::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  xfer::ReceiveOptions options;
  xfer::cli::CommonFlags common;
  bool no_encrypt = false;
  bool no_sync = false;
  bool no_same_owner = false, no_devices = false, no_setuid = false;
  bool preflight = false;
  xfer::IncomingTransfer incoming;
  std::string need = "0";
  std::string open_firewall_for;
  std::string forward_host;

  CLI::App app{
      "Receive a transfer from xfer-send into DIR.\n\n"
      "Listens on a TCP port (the kernel picks a free one unless --port is given) and prints one\n"
      "line on stdout, the ticket xfer1:PORT:SECRET; hand it to xfer-send on its stdin. Only the\n"
      "holder of the ticket can connect. Each top-level entry sent arrives as DIR/NAME, written\n"
      "under a hidden staging directory and renamed into place only once every checksum\n"
      "matched and the data is on disk. On success prints one JSON line on stdout.\n\n"
      "With --forward HOST, one source feeds a chain of receivers: this one reads the next\n"
      "receiver's ticket from stdin before it prints its own, and passes every verified chunk\n"
      "on to it while writing its own copy.\n\n"
      "Exit status: 0 success, 1 transfer failed (DIR unchanged), 2 bad command line.",
      kProgram};
  xfer::cli::ExecFlags exec;
  bool to_stdout = false;
  app.add_option("DIR", options.dest_dir, "Existing destination directory");
  xfer::cli::AddExecFlags(
      &app,
      "Feed what arrives to the standard input of CMD instead of extracting it: a byte stream "
      "from xfer-send --exec or --stdin, or the pax archive of files sent. CMD runs in a "
      "staging directory inside DIR (its stdout goes to stderr); what it creates there is "
      "renamed into DIR only once the stream verified and CMD exited 0 (a failure removes it). "
      "CMD is split into words as sh would, without expansion, and run without a shell "
      "unless --shell",
      &exec);
  CLI::Option* archive_option =
      app.add_option(
             "--to-archive", options.to_archive,
             "Store the files sent as an archive file instead of extracting them (no DIR): "
             "FILE.tar, "
             "or FILE.tar.zst / FILE.tzst compressed with zstd. The stream is stored byte for byte "
             "and "
             "checked as it is written (every entry's path, every file's checksum); the file "
             "appears "
             "under its name only once all of it verified and is on disk. Restore with tar --zstd "
             "-xpf FILE, or send it again with xfer-send --from-archive FILE")
          ->type_name("FILE");
  app.add_option("--level", options.archive_level,
                 "With --to-archive: the zstd level, 1 to 19 (default 1)")
      ->check(CLI::Range(1, 19))
      ->needs(archive_option);
  app.add_flag("--stdout", to_stdout,
               "Write what arrives to standard output instead (no DIR), each chunk once "
               "verified; the exit status says whether all of it arrived. The ticket and the "
               "JSON result then go to stderr");
  app.add_option("--listen", options.listen_address,
                 "Address to listen on (default: every address, IPv6 and IPv4)");
  app.add_option("--port", options.port, "TCP port to listen on (default 0: any free port)");
  app.add_flag("--no-encrypt", no_encrypt,
               "Have the data sent in clear, where it may be read on the way: the peers and "
               "every byte, its order and its end are still authenticated (a MAC keyed by the "
               "ticket on every record), only not encrypted; the ticket then ends in :plain");
  app.add_flag("--overwrite", options.overwrite, "Replace existing DIR/NAME entries");
  app.add_flag("--no-same-owner", no_same_owner,
               "Do not restore owners: what is written belongs to the user running xfer-recv, "
               "without setuid/setgid bits (by default owners are restored as tar -xp "
               "--numeric-owner does as root; not as another user, who cannot give files away)");
  app.add_flag("--no-devices", no_devices,
               "Refuse block and character devices, naming the entry (by default they are "
               "created, as root)");
  app.add_flag("--no-setuid", no_setuid, "Clear setuid and setgid bits of what is written");
  app.add_flag("--no-sync", no_sync, "Do not flush the data to disk before reporting success");
  xfer::cli::ResumeFlags resume;
  xfer::cli::AddResumeFlags(
      &app,
      "Resume an interrupted transfer (the default, so this flag changes nothing): what arrives "
      "is recorded (after a sync, about once a second) in a journal beside the staging "
      "directory, and a failed or interrupted transfer keeps both and says how much it kept; "
      "when the same xfer-send runs again, adopt what it left in DIR and let the sender skip "
      "what is held and unchanged at the source. With nothing to resume, a whole transfer. "
      "Not with --exec, --stdout or --to-archive (a stream is received whole every time)",
      "discard what an interrupted transfer of the same names into DIR kept (saying how much) "
      "and receive everything again",
      &resume);
  app.add_flag("--checksum", options.reread_check,
               "Before committing, drop the written files from the page cache, read them back "
               "and compare each with the sender's checksum (with --no-sync the pages may not "
               "leave the cache, and the re-read checks memory instead of the disk)");
  CLI::Option* preflight_flag = app.add_flag(
      "--preflight", preflight,
      "Only check DIR as a transfer would (a directory that takes new entries; no DIR/NAME "
      "for --name unless --overwrite; room for --need bytes in --entries entries), without "
      "listening; print one JSON line: {\"preflight\":\"ok\",...,\"free_bytes\":N}");
  app.add_option("--name", incoming.names, "With --preflight: a top-level NAME that will arrive")
      ->allow_extra_args(false)
      ->needs(preflight_flag);
  app.add_option("--need", need,
                 "With --preflight: bytes the files occupy on the sender (its allocated_bytes), "
                 "e.g. 10G")
      ->needs(preflight_flag);
  app.add_option("--entries", incoming.entries,
                 "With --preflight: entries that will arrive (each needs room for metadata)")
      ->needs(preflight_flag);
  app.add_option("--open-firewall-for", open_firewall_for,
                 "Let TCP from this sending host (name or address) through the firewall to the "
                 "port, from before the ticket is printed until the sender is done (nft: a rule at "
                 "the top of every input base chain; without nft: iptables/ip6tables INPUT). The "
                 "rules are held by a small process of their own, which removes them when "
                 "xfer-recv exits, or is killed, if it did not; they carry the comment "
                 "\"xfer-recv PID\"")
      ->type_name("ADDR");
  app.add_option("--forward", forward_host,
                 "Also pass the transfer on, as it arrives and once verified here, to the "
                 "xfer-recv listening on HOST, whose ticket is the first line of stdin (read "
                 "before this receiver prints its own). If that receiver fails, this copy still "
                 "completes and the result line says why under \"peers\"; if this copy fails "
                 "(refused, disk full, the --exec command failed), the whole stream still goes "
                 "on to that receiver, which verifies it on its own")
      ->type_name("HOST");
  xfer::cli::AddCommonFlags(&app, kProgram, &common);
  int exit_code = 0;
  if (!xfer::cli::ParseCommandLine(&app, argc, argv, &exit_code)) return exit_code;
  if (!exec.command.empty() + to_stdout + !options.to_archive.empty() > 1) {
    std::fprintf(stderr, "%s: error: --exec, --stdout and --to-archive: choose one output\n",
                 kProgram);
    return xfer::cli::kExitUsage;
  }
  if (to_stdout && common.json) {
    std::fprintf(stderr, "%s: error: --stdout and --json: stdout carries the data\n", kProgram);
    return xfer::cli::kExitUsage;
  }
  bool no_dir = to_stdout || !options.to_archive.empty();
  if (no_dir == !options.dest_dir.empty()) {
    std::fprintf(stderr, "%s: error: %s\n", kProgram,
                 no_dir ? "--stdout and --to-archive take no DIR"
                        : "DIR is required (except with --stdout or --to-archive)");
    return xfer::cli::kExitUsage;
  }
  if (!xfer::cli::ExecArgv(kProgram, exec, &options.exec)) return xfer::cli::kExitUsage;
  if (to_stdout) options.output_fd = STDOUT_FILENO;
  if (!xfer::cli::ApplyResumeFlags(kProgram, resume, xfer::IsResumable(options),
                                   "--exec, --stdout and --to-archive are not resumable (a "
                                   "stream is received whole every time)",
                                   &options.resume)) {
    return xfer::cli::kExitUsage;
  }
  if (preflight) return RunPreflight(options, need, &incoming);

  xfer::CancelToken cancel;
  xfer::cli::ApplyCommonFlags(common, kProgram, &cancel, &options);
  options.encrypt = !no_encrypt;
  options.sync = !no_sync;
  options.same_owner = !no_same_owner;
  options.devices = !no_devices;
  options.setuid = !no_setuid;
  xfer::Status status;
  // The guard is forked, so before any thread starts (the lifeline's, the library's).
  std::unique_ptr<xfer::cli::FirewallGuard> firewall;
  if (!open_firewall_for.empty()) {
    status = xfer::cli::FirewallGuard::Start(options.log, &firewall);
    if (!status.ok()) return xfer::cli::ReportError(kProgram, status);
    // Before the staging directory is removed, which can take long; and the guard removes the
    // rules anyway if this process is killed.
    options.sender_done = [&firewall, log = options.log] {
      xfer::Status closed = firewall->Close();
      if (!closed.ok()) log(xfer::LogLevel::kWarning, "firewall: " + closed.message());
    };
  }
  if (!forward_host.empty()) {
    std::string ticket_line;
    xfer::Destination downstream{forward_host, {}};
    status = xfer::cli::ReadTicketFromStdin(options.timeout, &ticket_line);
    if (status.ok()) status = xfer::Ticket::Parse(ticket_line, &downstream.ticket);
    if (!status.ok()) return xfer::cli::ReportError(kProgram, status.WithContext("--forward"));
    options.forward = std::move(downstream);
  }

  // Declared after `cancel`, so its watcher is joined before the token is destroyed. Whoever
  // reads stdout (the ticket and result, or with --stdout the data) leaving stops the transfer.
  xfer::cli::Lifeline lifeline(&cancel,
                               {.stdin_ends = common.lifeline, .stdout_reader_leaves = true});

  std::unique_ptr<xfer::Receiver> receiver;
  status = xfer::Receiver::Listen(options, &receiver);
  if (!status.ok()) return xfer::cli::ReportError(kProgram, status);
  // Every return from here on removes the rules (SIGINT and SIGTERM cancel, then return too);
  // Run removes them before it cleans up.
  if (firewall) {
    status = firewall->Open(open_firewall_for, receiver->port());
    if (!status.ok()) return xfer::cli::ReportError(kProgram, status);
  }
  // With --stdout, stdout carries the data: the lines for people and for `xfer` go to stderr.
  FILE* lines = to_stdout ? stderr : stdout;
  std::fprintf(lines, "%s\n", receiver->ticket().Format().c_str());
  std::fflush(lines);

  xfer::Report report;
  status = receiver->Run(&report);
  if (!status.ok()) {
    // A chain receiver whose own copy failed still says how its forwarding went.
    if (!report.peers.empty()) {
      report.error = status.message();
      std::fprintf(lines, "%s\n", report.ToJson().c_str());
      std::fflush(lines);
    }
    return xfer::cli::ReportFailure(kProgram, status, report, lines, common.json);
  }
  std::fprintf(lines, "%s\n", report.ToJson().c_str());
  return xfer::cli::kExitOk;
}
