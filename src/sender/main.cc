// xfer-send: reads a ticket, sends files and directories to the xfer-recv that printed it.
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "cli_common.h"
#include "xfer/sender.h"

namespace {

constexpr char kProgram[] = "xfer-send";
constexpr size_t kMaxTicketLine = 256;

// Reads the first line of stdin, waiting at most `timeout` for it.
xfer::Status ReadTicketFromStdin(std::chrono::seconds timeout, std::string* line) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char c;
  while (line->size() < kMaxTicketLine) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{STDIN_FILENO, POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (ready == 0) {
      return xfer::Status(xfer::Code::kTimeout, "no ticket arrived on stdin within " +
                                                    std::to_string(timeout.count()) + " s");
    }
    ssize_t n = read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return xfer::Status::FromErrno(errno, "reading the ticket from stdin");
    if (n == 0 || c == '\n') break;
    *line += c;
  }
  if (line->empty()) return xfer::Status(xfer::Code::kInvalidArgument, "no ticket on stdin");
  return xfer::Status::Ok();
}

xfer::Status ReadTicketFile(const std::string& path, std::string* line) {
  std::ifstream in(path);
  if (!in) return xfer::Status::FromErrno(errno, "reading ticket file " + path);
  std::getline(in, *line);
  return xfer::Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  xfer::SendOptions options;
  xfer::cli::CommonFlags common;
  std::string ticket_file;
  std::string chunk_size = "1M";
  bool no_compress = false;

  CLI::App app{
      "Send files and directories to the xfer-recv whose ticket arrives on stdin.\n\n"
      "Each PATH is sent under its basename, like tar -C dirname(PATH) basename(PATH). The data\n"
      "is compressed with zstd on several threads, checksummed with xxHash, and sent over TLS\n"
      "1.3 keyed by the ticket (or in clear if the receiver chose --no-encrypt). Success means\n"
      "the receiver verified everything and committed it. On success prints one JSON line.\n\n"
      "Exit status: 0 success, 1 transfer failed, 2 bad command line.",
      kProgram};
  app.add_option("PATH", options.paths, "Files or directories to send")->required();
  app.add_option("--to", options.host, "Host where xfer-recv listens")->required();
  app.add_option("--ticket-file", ticket_file,
                 "Read the ticket from FILE instead of the first line of stdin");
  app.add_option("--level", options.level,
                 "Fixed zstd level, 1 to 19 (default: adapt per window of chunks, from storing raw "
                 "when the CPU is the bottleneck up to level 1 when the network is; raw when the "
                 "receiver is on this host)")
      ->check(CLI::Range(1, 19));
  app.add_flag("--no-compress", no_compress, "Send the data uncompressed");
  app.add_option("--chunk-size", chunk_size, "Bytes per chunk, 64K to 16M")->default_val("1M");
  xfer::cli::AddCommonFlags(&app, kProgram, &common);
  int exit_code = 0;
  if (!xfer::cli::ParseCommandLine(&app, argc, argv, &exit_code)) return exit_code;
  uint64_t chunk_bytes = 0;
  if (!xfer::cli::ParseSize(chunk_size, &chunk_bytes) || chunk_bytes > UINT32_MAX) {
    std::fprintf(stderr, "%s: error: --chunk-size: '%s' is not a size like 1M\n", kProgram,
                 chunk_size.c_str());
    return xfer::cli::kExitUsage;
  }

  xfer::CancelToken cancel;
  xfer::cli::ApplyCommonFlags(common, kProgram, &cancel, &options);
  options.compress = !no_compress;
  options.chunk_size = static_cast<uint32_t>(chunk_bytes);

  std::string ticket_line;
  xfer::Status status = ticket_file.empty()
                            ? ReadTicketFromStdin(options.timeout, &ticket_line)
                            : ReadTicketFile(ticket_file, &ticket_line);
  if (status.ok()) status = xfer::Ticket::Parse(ticket_line, &options.ticket);
  if (!status.ok()) return xfer::cli::ReportError(kProgram, status);

  xfer::Report report;
  status = xfer::Send(options, &report);
  if (!status.ok()) return xfer::cli::ReportError(kProgram, status);
  std::printf("%s\n", report.ToJson().c_str());
  return xfer::cli::kExitOk;
}
