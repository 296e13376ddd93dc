// Forwarder: the receiver's link to the next receiver of a chain (ReceiveOptions::forward).
//
// It replays the upstream sender's frames, unchanged and in stream order, to a downstream
// xfer-recv that cannot tell it from a sender: the same HELLO, every DATA and MANIFEST frame once
// this receiver verified it, and the TRAILER as soon as the stream arrived whole, before this
// receiver commits (or even when its own copy failed): the downstream verifies everything on its
// own, so every receiver of a chain syncs and commits at the same time. Frames wait in a small
// BoundedQueue for the thread that owns the downstream channel; a slow downstream slows this
// receiver down rather than growing the queue.
//
// A downstream that refuses, fails or disconnects only stops the forwarding (a warning is logged,
// possibly from the forwarding thread, and Wait() reports why); this receiver's own copy goes on.
// Every wait on the downstream has a deadline: options.idle_timeout for the handshake and each
// frame, options.timeout for its verdict.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "bounded_queue.h"
#include "buffer.h"
#include "buffer_pool.h"
#include "receiver_link.h"
#include "wire_format.h"
#include "xfer/receiver.h"
#include "xfer/report.h"

namespace xfer {

class Forwarder {
 public:
  // Frames waiting for the downstream; with the one being sent, what forwarding adds to memory.
  static constexpr size_t kQueueFrames = 4;

  // options.forward must be set. options must outlive the Forwarder.
  explicit Forwarder(const ReceiveOptions& options);
  // Stops the thread without telling the downstream anything more.
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Connects, sends hello_payload (the upstream's HELLO as received, decoded as hello) and waits
  // up to options.idle_timeout for the downstream's ACCEPT (and, when the HELLO asks to resume,
  // its offers), then starts the sending thread. Payloads go back to pool once sent; pool must
  // outlive the Forwarder. On failure forwarding is off.
  void Open(std::string_view hello_payload, const Hello& hello, BufferPool* pool);

  // What the downstream holds of an interrupted transfer, after Open asked it to resume; null
  // when forwarding is off.
  const HeldFiles* offers() const { return outcome_.error.empty() ? &offers_ : nullptr; }

  // Open succeeded and the downstream has not failed (so far).
  bool forwarding() const { return opened_ && !stopped_.load(); }

  // Queues one verified DATA or MANIFEST frame with its payload as received (compressed or not).
  // Blocks while kQueueFrames frames wait. With forwarding off the payload goes back to the pool.
  void Forward(const FrameHeader& header, Buffer payload);

  // The whole stream arrived: queues the TRAILER, on which the downstream verifies and commits
  // its own copy, whatever becomes of this one. Then the thread waits up to options.timeout for
  // the downstream's verdict.
  void Finish(std::string_view trailer_payload);

  // After Finish: waits for the thread, so that ok means the downstream committed.
  PeerOutcome Wait();

  // This receiver failed. Before Finish: drops what is queued and sends the downstream an ERROR
  // ("upstream failed: ..."), connecting first if Open never ran, so that it fails too and
  // commits nothing. After Finish the downstream has the whole stream and decides for itself:
  // the same as Wait().
  PeerOutcome Abort(const Status& why);

 private:
  struct QueuedFrame {
    FrameHeader header;
    Buffer payload;
  };

  Status Handshake(std::string_view hello_payload, const Hello& hello);
  void SendLoop();
  Status Send(const QueuedFrame& frame);
  // Records why forwarding stopped and logs it; the link is dropped.
  void Fail(const Status& status);

  const ReceiveOptions& options_;
  PeerOutcome outcome_;
  bool opened_ = false;
  bool finished_ = false;             // the TRAILER was queued
  std::atomic<bool> stopped_{false};  // set by the thread when the downstream failed
  HeldFiles offers_;
  BufferPool* pool_ = nullptr;
  // Towards the downstream this receiver is a sender like any other. Owned by thread_ while it
  // runs.
  ReceiverLink link_;
  BoundedQueue<QueuedFrame> queue_{kQueueFrames};
  std::thread thread_;
};

}  // namespace xfer
