// ReceiverLink: one receiver a sender streams to. It owns the authenticated connection, speaks
// the per-connection half of the protocol (HELLO and ACCEPT, frames while listening for the
// receiver's ERROR, the verdict) and keeps why it failed. A failed link writes nothing more, so a
// sender streaming to several receivers drops it and goes on with the others.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "channel.h"
#include "deadline.h"
#include "held_file.h"
#include "wire_format.h"
#include "xfer/cancel.h"
#include "xfer/destination.h"
#include "xfer/report.h"
#include "xfer/status.h"

namespace xfer {

class ReceiverLink {
 public:
  // role names the receiver in what it reports: "receiver" when it is the only one, its address
  // too among several, so that each failure says whose it is.
  ReceiverLink(Destination destination, std::string role, const CancelToken* cancel)
      : destination_(std::move(destination)), role_(std::move(role)), cancel_(cancel) {}

  // Connects and authenticates with the destination's ticket. A connection refused, reset or
  // closed before authentication (Code::kNetwork: a receiver not listening yet, or one that
  // pushed us out of a flood) is tried again, 100 ms later, then doubling up to 2 s, until
  // deadline; the first retry is logged once. A peer that proved to hold another secret
  // (Code::kAuth) or speaks something else (kProtocol) is not tried again.
  Status Connect(Deadline deadline, const LogCallback& log);
  // One attempt, for a best-effort notice that is not worth waiting for.
  Status ConnectOnce(Deadline deadline);
  Status SendHello(std::string_view hello, Deadline deadline);
  // ACCEPT; with offers (a HELLO that asked to resume), the receiver's HELD offers before it, at
  // most max_offers of them.
  Status AwaitAccept(Deadline deadline, uint64_t max_offers = 0, HeldFiles* offers = nullptr);
  // A DATA or MANIFEST frame. A receiver that failed usually stops reading; its ERROR is heard
  // here instead of blocking on a full socket.
  Status SendFrame(const FrameHeader& header, const uint8_t* payload, Deadline deadline);
  Status SendTrailer(std::string_view trailer, Deadline deadline);
  // RESULT: the receiver verified, synced and committed.
  Status AwaitVerdict(Deadline deadline);
  // Ends our direction after the verdict.
  void Finish();

  // Drops the link: keeps status (the first failure wins), tells the receiver why when it can
  // still hear it, and closes the connection.
  void Fail(const Status& status);

  bool alive() const { return failure_.ok(); }
  const Status& failure() const { return failure_; }
  const Destination& destination() const { return destination_; }
  // "host:port", for messages.
  std::string Where() const;
  // The receiver is on this host (known once connected).
  bool local() const { return local_; }
  // What protects the stream, for verbose logs.
  std::string Describe() const;
  uint64_t BytesSent() const;
  uint64_t BytesReceived() const;

 private:
  // What the receiver says mid-stream: only ERROR (or its disappearance) is expected.
  Status HearReceiver();
  // Passes a write's status on, noting a failure (the stream is then cut short); a network
  // failure says it is the connection to the receiver that was lost.
  Status Wrote(Status status);

  Destination destination_;
  std::string role_;
  const CancelToken* cancel_;
  std::unique_ptr<Channel> channel_;
  Status failure_;
  bool local_ = false;
  bool write_failed_ = false;
  // The channel's counts, kept when a failed link's channel is closed.
  uint64_t bytes_sent_ = 0;
  uint64_t bytes_received_ = 0;
};

}  // namespace xfer
