// xfer-recv: listens, prints a ticket, receives one transfer into DIR.
#include <cstdio>

#include "cli_common.h"
#include "xfer/receiver.h"

namespace {

constexpr char kProgram[] = "xfer-recv";

}  // namespace

int main(int argc, char** argv) {
  xfer::ReceiveOptions options;
  xfer::cli::CommonFlags common;
  bool no_encrypt = false;
  bool no_sync = false;

  CLI::App app{
      "Receive a transfer from xfer-send into DIR.\n\n"
      "Listens on a TCP port (the kernel picks a free one unless --port is given) and prints one\n"
      "line on stdout, the ticket xfer1:PORT:SECRET; hand it to xfer-send on its stdin. Only the\n"
      "holder of the ticket can connect. Each top-level entry sent arrives as DIR/NAME, written\n"
      "under a hidden staging directory and renamed into place only once every checksum\n"
      "matched and the data is on disk. On success prints one JSON line on stdout.\n\n"
      "Exit status: 0 success, 1 transfer failed (DIR unchanged), 2 bad command line.",
      kProgram};
  app.add_option("DIR", options.dest_dir, "Existing destination directory")->required();
  app.add_option("--listen", options.listen_address,
                 "Address to listen on (default: every address, IPv6 and IPv4)");
  app.add_option("--port", options.port, "TCP port to listen on (default 0: any free port)");
  app.add_flag("--no-encrypt", no_encrypt,
               "Send data in clear (still authenticated and checksummed); for trusted networks");
  app.add_flag("--overwrite", options.overwrite, "Replace existing DIR/NAME entries");
  app.add_flag("--no-sync", no_sync, "Do not flush the data to disk before reporting success");
  xfer::cli::AddCommonFlags(&app, &common);
  app.set_version_flag("--version", xfer::cli::VersionLine(kProgram));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? xfer::cli::kExitOk : xfer::cli::kExitUsage;
  }

  xfer::CancelToken cancel;
  xfer::cli::CancelOnSignals(&cancel);
  options.encrypt = !no_encrypt;
  options.sync = !no_sync;
  options.threads = common.threads;
  options.timeout = std::chrono::seconds(common.timeout_s);
  options.idle_timeout = std::chrono::seconds(common.idle_timeout_s);
  options.cancel = &cancel;
  options.log = xfer::cli::StderrLog(kProgram);
  if (common.progress) options.progress = xfer::cli::StderrProgress(kProgram);

  std::unique_ptr<xfer::Receiver> receiver;
  xfer::Status status = xfer::Receiver::Listen(options, &receiver);
  if (!status.ok()) return xfer::cli::ReportError(kProgram, status);
  std::printf("%s\n", receiver->ticket().Format().c_str());
  std::fflush(stdout);

  xfer::Report report;
  status = receiver->Run(&report);
  if (!status.ok()) return xfer::cli::ReportError(kProgram, status);
  std::printf("%s\n", report.ToJson().c_str());
  return xfer::cli::kExitOk;
}
