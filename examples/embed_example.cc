// Embedding libxfer: copy SOURCE into DEST_DIR over loopback with a Receiver and a Sender in one
// process. A backup tool would run the Receiver on one host and hand its ticket to the Sender on
// another through its own authenticated channel (ssh, an RPC), never through argv.
//
//   embed_example SOURCE DEST_DIR
#include <cstdio>
#include <thread>

#include "xfer/receiver.h"
#include "xfer/sender.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s SOURCE DEST_DIR\n", argv[0]);
    return 2;
  }
  xfer::ReceiveOptions receive;
  receive.dest_dir = argv[2];
  receive.listen_address = "127.0.0.1";
  std::unique_ptr<xfer::Receiver> receiver;
  xfer::Status status = xfer::Receiver::Listen(receive, &receiver);
  if (!status.ok()) {
    std::fprintf(stderr, "receiver: %s\n", status.message().c_str());
    return 1;
  }

  xfer::Status received;
  xfer::Report receiver_report;
  std::thread receiving([&] { received = receiver->Run(&receiver_report); });

  xfer::SendOptions send;
  // In-process hand-over of the ticket; across hosts, send Format()'s line.
  send.destinations = {{"127.0.0.1", receiver->ticket()}};
  send.paths = {argv[1]};
  send.progress = [](const xfer::Progress& p) {
    std::fprintf(stderr, "sent %llu of %llu bytes\n", static_cast<unsigned long long>(p.done_bytes),
                 static_cast<unsigned long long>(p.total_bytes));
  };
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
