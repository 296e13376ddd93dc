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
  xfer::cli::AddCommonFlags(&app, kProgram, &common);
  int exit_code = 0;
  if (!xfer::cli::ParseCommandLine(&app, argc, argv, &exit_code)) return exit_code;

  xfer::CancelToken cancel;
  xfer::cli::ApplyCommonFlags(common, kProgram, &cancel, &options);
  options.encrypt = !no_encrypt;
  options.sync = !no_sync;

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
