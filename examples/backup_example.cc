// Embedding libxfer for backup and recovery: write a backup file of a tree, or restore one into a
// directory, with a Receiver and a Sender in one process over loopback. A backup tool would run
// the Receiver on the backup host (to_archive) or on the target (dest_dir), and hand its ticket
// to the Sender on the other host through its own channel, never through argv.
//
//   backup_example backup SOURCE FILE.tar.zst
//   backup_example restore FILE.tar.zst DEST_DIR
#include <cstdio>
#include <string>
#include <thread>

#include "xfer/receiver.h"
#include "xfer/sender.h"

int main(int argc, char** argv) {
  std::string mode = argc == 4 ? argv[1] : "";
  if (mode != "backup" && mode != "restore") {
    std::fprintf(stderr, "usage: %s backup SOURCE FILE.tar.zst | restore FILE.tar.zst DEST_DIR\n",
                 argv[0]);
    return 2;
  }
  xfer::ReceiveOptions receive;
  receive.listen_address = "127.0.0.1";
  xfer::SendOptions send;
  if (mode == "backup") {
    send.paths = {argv[2]};        // or file_list, exec (a command's output), stream_fd
    receive.to_archive = argv[3];  // a verified .tar.zst, renamed into place when complete
  } else {
    send.from_archive = argv[2];  // any archive libarchive reads
    receive.dest_dir = argv[3];   // or exec (a command's input), output_fd
  }

  std::unique_ptr<xfer::Receiver> receiver;
  xfer::Status status = xfer::Receiver::Listen(receive, &receiver);
  if (!status.ok()) {
    std::fprintf(stderr, "receiver: %s\n", status.message().c_str());
    return 1;
  }
  xfer::Status received;
  xfer::Report receiver_report;
  std::thread receiving([&] { received = receiver->Run(&receiver_report); });
  send.destinations = {{"127.0.0.1", receiver->ticket()}};
  xfer::Report sender_report;
  xfer::Status sent = xfer::Send(send, &sender_report);
  receiving.join();
  if (!sent.ok() || !received.ok()) {
    std::fprintf(stderr, "send: %s\nreceive: %s\n", sent.message().c_str(),
                 received.message().c_str());
    return 1;
  }
  std::printf("%s\n", receiver_report.ToJson().c_str());
  return 0;
}
