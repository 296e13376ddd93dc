// xfer-send: reads tickets, sends files and directories to the xfer-recvs that printed them.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>

#include "cli_common.h"
#include "xfer/sender.h"

namespace {

constexpr char kProgram[] = "xfer-send";

// One ticket per line, in --to order.
xfer::Status ReadTicketFile(const std::string& path, size_t count,
                            std::vector<std::string>* lines) {
  std::ifstream in(path);
  if (!in) return xfer::Status::FromErrno(errno, "reading ticket file " + path);
  std::string line;
  while (lines->size() < count && std::getline(in, line)) lines->push_back(line);
  if (lines->size() < count) {
    return xfer::Status(xfer::Code::kInvalidArgument,
                        "ticket file " + path + " holds " + std::to_string(lines->size()) +
                            " tickets for " + std::to_string(count) + " --to hosts");
  }
  return xfer::Status::Ok();
}

// One ticket per line of stdin, in --to order.
xfer::Status ReadTicketsFromStdin(std::chrono::seconds timeout, size_t count,
                                  std::vector<std::string>* lines) {
  while (lines->size() < count) {
    std::string line;
    xfer::Status status = xfer::cli::ReadTicketFromStdin(timeout, &line);
    if (!status.ok() && count > 1) {
      status = status.WithContext("ticket " + std::to_string(lines->size() + 1) + " of " +
                                  std::to_string(count));
    }
    XFER_RETURN_IF_ERROR(status);
    lines->push_back(std::move(line));
  }
  return xfer::Status::Ok();
}

// --preflight: what a send of paths would carry, for `xfer` to check every host before it starts.
int RunPreflight(const xfer::SendOptions& options) {
  xfer::SourceSurvey survey;
  xfer::Status status = xfer::SurveySources(options, &survey);
  if (!status.ok()) return xfer::cli::ReportError(kProgram, status);
  std::string names;
  for (const std::string& name : survey.top_names) {
    names += (names.empty() ? "" : ",") + xfer::JsonString(name);
  }
  std::string fields = "\"entries\":" + std::to_string(survey.entries) +
                       ",\"files\":" + std::to_string(survey.files) +
                       ",\"bytes\":" + std::to_string(survey.content_bytes) +
                       ",\"allocated_bytes\":" + std::to_string(survey.allocated_bytes) +
                       ",\"names\":[" + names + "]";
  std::printf("%s\n", xfer::cli::PreflightJson(fields).c_str());
  return xfer::cli::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  xfer::SendOptions options;
  xfer::cli::CommonFlags common;
  std::vector<std::string> hosts;
  std::string ticket_file;
  std::string chunk_size = "1M";
  std::string limit_rate;
  bool no_compress = false;
  bool preflight = false;

  CLI::App app{
      "Send files and directories to the xfer-recv whose ticket arrives on stdin, or to several\n"
      "at once: one --to per receiver and one ticket line per --to, in the same order.\n\n"
      "Each PATH is sent under its basename, like tar -C dirname(PATH) basename(PATH). The data\n"
      "is compressed with zstd on several threads, checksummed with xxHash, and sent over TLS\n"
      "1.3 keyed by the ticket (or, if the receiver chose --no-encrypt, in clear but still\n"
      "authenticated byte for byte). Success means the receiver verified everything and\n"
      "committed it. On success prints one JSON line.\n\n"
      "With several receivers the files are read and compressed once and every receiver gets\n"
      "the same stream. One that fails is dropped and the others go on; the JSON line then lists\n"
      "each receiver under \"peers\" and is printed whenever at least one succeeded.\n\n"
      "Exit status: 0 success (every receiver), 1 transfer failed (for at least one receiver),\n"
      "2 bad command line.",
      kProgram};
  xfer::cli::ExecFlags exec;
  bool from_stdin = false;
  app.add_option("PATH", options.paths, "Files or directories to send");
  xfer::cli::AddExecFlags(
      &app,
      "Send the standard output of CMD instead of files (a byte stream: receive it with "
      "xfer-recv --exec or --stdout). CMD is split into words as sh would, without expansion, "
      "and run without a shell unless --shell; it starts once the receivers accepted, its "
      "stdin is /dev/null, and a non-zero exit fails the transfer on both sides",
      &exec);
  std::string files_from;
  bool null_separated = false;
  app.add_option("--files-from", files_from,
                 "Send exactly the paths FILE names, one per line (- : stdin), relative to -C DIR "
                 "or the working directory, as tar -T FILE --no-recursion would: a listed "
                 "directory comes without its content unless that is listed too, unlisted "
                 "parents come with their metadata. Absolute names, '..', names that do not "
                 "exist and paths through symlinks are refused, naming the line")
      ->type_name("FILE");
  app.add_flag("-0,--null", null_separated,
               "With --files-from: names end with NUL, not newline (find -print0)");
  app.add_option("-C,--directory", options.file_list_dir,
                 "With --files-from: the directory the names are relative to")
      ->type_name("DIR");
  CLI::Option* archive_option =
      app.add_option("--from-archive", options.from_archive,
                     "Send the entries of an existing archive instead of files: any format "
                     "libarchive reads "
                     "(tar, pax, cpio, zip, 7z; gzip, bzip2, xz, zstd, lz4 compressed). The "
                     "receiver extracts "
                     "them like a tree, with the same checks; absolute names and '..' are refused")
          ->type_name("FILE");
  app.add_option("--strip-components", options.strip_components,
                 "With --from-archive: remove N leading components from each name (as tar "
                 "does; an entry left without a name is skipped)")
      ->check(CLI::NonNegativeNumber)
      ->needs(archive_option);
  app.add_flag("--stdin", from_stdin,
               "Send this program's standard input (a byte stream) instead of files; the tickets "
               "then come from --ticket-file");
  // Required unless --preflight: checked after parsing, as CLI11 has no "required unless".
  app.add_option("--to", hosts, "Host where xfer-recv listens; repeat it to send to several")
      ->allow_extra_args(false);
  app.add_option("--ticket-file", ticket_file,
                 "Read the tickets from FILE (one line per --to) instead of stdin");
  app.add_option("--level", options.level,
                 "Fixed zstd level, 1 to 19 (default: adapt per window of chunks, from storing raw "
                 "when the CPU is the bottleneck up to level 1 when the network is; raw when the "
                 "receiver is on this host)")
      ->check(CLI::Range(1, 19));
  app.add_flag("--no-compress", no_compress, "Send the data uncompressed");
  app.add_option("--chunk-size", chunk_size, "Bytes per chunk, 64K to 16M")->default_val("1M");
  app.add_option("--limit-rate", limit_rate,
                 "Put at most RATE bytes per second on the wire (like 100M or 1G, powers of "
                 "1024), summed over every --to, so that this host keeps serving while it copies "
                 "(default: no limit)");
  int64_t stall_timeout_s = options.stall_timeout.count();
  app.add_option("--stall-timeout", stall_timeout_s,
                 "With several --to: drop a receiver that takes no data for SECONDS (it is named, "
                 "\"stalled\"), and go on with the others")
      ->default_val(stall_timeout_s)
      ->check(CLI::Range(1, 86400))
      ->type_name("SECONDS");
  app.add_flag("--resume", options.resume,
               "Resume an interrupted transfer: ask each receiver (started with --resume) what "
               "it holds of it, and skip what every one holds and is unchanged here (metadata, "
               "and the bytes, read and checked against the receiver's digest); with nothing "
               "held, a whole transfer");
  app.add_flag("--preflight", preflight,
               "Only check the source: walk the PATHs (or the list, or the archive) as a send "
               "would, send nothing, and print one "
               "JSON line: {\"preflight\":\"ok\",...,\"entries\":N,\"files\":N,\"bytes\":N,"
               "\"allocated_bytes\":N,\"names\":[...]}");
  xfer::cli::AddCommonFlags(&app, kProgram, &common);
  int exit_code = 0;
  if (!xfer::cli::ParseCommandLine(&app, argc, argv, &exit_code)) return exit_code;
  int sources = !options.paths.empty() + !exec.command.empty() + from_stdin + !files_from.empty() +
                !options.from_archive.empty();
  if (sources != 1) {
    std::fprintf(stderr,
                 "%s: error: give one source: PATH..., --files-from FILE, --from-archive FILE, "
                 "--exec CMD or --stdin\n",
                 kProgram);
    return xfer::cli::kExitUsage;
  }
  if ((null_separated || !options.file_list_dir.empty()) && files_from.empty()) {
    std::fprintf(stderr, "%s: error: -0 and -C go with --files-from\n", kProgram);
    return xfer::cli::kExitUsage;
  }
  bool data_on_stdin = from_stdin || files_from == "-";
  if (data_on_stdin && !preflight && (ticket_file.empty() || common.lifeline)) {
    std::fprintf(stderr,
                 "%s: error: %s: stdin carries the data, so the tickets come from "
                 "--ticket-file, and --lifeline cannot watch it\n",
                 kProgram, from_stdin ? "--stdin" : "--files-from -");
    return xfer::cli::kExitUsage;
  }
  if (!xfer::cli::ExecArgv(kProgram, exec, &options.exec)) return xfer::cli::kExitUsage;
  if (from_stdin) options.stream_fd = 0;
  if (!files_from.empty()) {
    xfer::Status read = xfer::LoadFileList(files_from, null_separated, &options);
    if (!read.ok()) return xfer::cli::ReportError(kProgram, read);
  }
  if (preflight) return RunPreflight(options);
  if (app.count("--to") == 0) {
    std::fprintf(stderr, "%s: error: --to is required (except with --preflight)\n", kProgram);
    return xfer::cli::kExitUsage;
  }
  uint64_t chunk_bytes = 0;
  if (!xfer::cli::ParseSize(chunk_size, &chunk_bytes) || chunk_bytes > UINT32_MAX) {
    std::fprintf(stderr, "%s: error: --chunk-size: '%s' is not a size like 1M\n", kProgram,
                 chunk_size.c_str());
    return xfer::cli::kExitUsage;
  }

  uint64_t limit_bytes = 0;
  bool rate_ok =
      limit_rate.empty() || (xfer::cli::ParseSize(limit_rate, &limit_bytes) && limit_bytes > 0);
  if (!rate_ok) {
    std::fprintf(stderr, "%s: error: --limit-rate: '%s' is not a rate like 100M\n", kProgram,
                 limit_rate.c_str());
    return xfer::cli::kExitUsage;
  }

  xfer::CancelToken cancel;
  xfer::cli::ApplyCommonFlags(common, kProgram, &cancel, &options);
  options.limit_rate = limit_bytes;
  options.stall_timeout = std::chrono::seconds(stall_timeout_s);
  options.compress = !no_compress;
  options.chunk_size = static_cast<uint32_t>(chunk_bytes);

  std::vector<std::string> ticket_lines;
  xfer::Status status = ticket_file.empty()
                            ? ReadTicketsFromStdin(options.timeout, hosts.size(), &ticket_lines)
                            : ReadTicketFile(ticket_file, hosts.size(), &ticket_lines);
  for (size_t i = 0; status.ok() && i < hosts.size(); ++i) {
    xfer::Destination destination{hosts[i], {}};
    status = xfer::Ticket::Parse(ticket_lines[i], &destination.ticket)
                 .WithContext("ticket for --to " + hosts[i]);
    options.destinations.push_back(std::move(destination));
  }
  if (!status.ok()) return xfer::cli::ReportError(kProgram, status);
  // Declared after `cancel`, so its watcher is joined before the token is destroyed.
  std::optional<xfer::cli::StdinLifeline> lifeline;
  if (common.lifeline) lifeline.emplace(&cancel);

  xfer::Report report;
  status = xfer::Send(options, &report);
  // Among several receivers, those that succeeded committed the data: say which.
  bool some_succeeded = std::any_of(report.peers.begin(), report.peers.end(),
                                    [](const xfer::PeerOutcome& peer) { return peer.ok; });
  if (status.ok() || some_succeeded) std::printf("%s\n", report.ToJson().c_str());
  if (!status.ok()) return xfer::cli::ReportError(kProgram, status);
  return xfer::cli::kExitOk;
}
