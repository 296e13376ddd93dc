// The Forwarder against a downstream played by the test over a real loopback channel: what it
// sends, in which order, and how it behaves when the downstream or this receiver fails.
#include "forwarder.h"

#include <gtest/gtest.h>

#include <cstring>
#include <future>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "chunk_codec.h"
#include "frame_io.h"
#include "socket.h"

namespace xfer {
namespace {

using namespace std::chrono_literals;

Deadline Soon() { return Deadline::After(10s); }

struct Frame {
  FrameHeader header;
  std::string payload;
};

std::string AsString(const Buffer& buffer) {
  return std::string(reinterpret_cast<const char*>(buffer.data()), buffer.size());
}

// Stored DATA frames of assorted sizes, then one MANIFEST frame: what a receiver forwards.
std::vector<Frame> SomeFrames() {
  std::mt19937 rng(7);
  std::vector<Frame> frames;
  for (uint64_t seq = 0; seq < 12; ++seq) {
    Frame frame;
    frame.payload.resize(1000 + rng() % 60000);
    for (char& c : frame.payload) c = static_cast<char>(rng());
    frame.header.seq = seq;
    frame.header.payload_len = frame.header.raw_len = static_cast<uint32_t>(frame.payload.size());
    frame.header.checksum =
        ChunkChecksum(reinterpret_cast<const uint8_t*>(frame.payload.data()), frame.payload.size());
    frames.push_back(frame);
  }
  Frame manifest;
  manifest.header.type = FrameType::kManifest;
  AppendManifestRecord({"top/file", 3, {1, 2}}, &manifest.payload);
  manifest.header.payload_len = manifest.header.raw_len =
      static_cast<uint32_t>(manifest.payload.size());
  manifest.header.checksum = ChunkChecksum(
      reinterpret_cast<const uint8_t*>(manifest.payload.data()), manifest.payload.size());
  frames.push_back(manifest);
  return frames;
}

Buffer ToBuffer(BufferPool* pool, const std::string& bytes) {
  Buffer buffer = pool->Take(bytes.size());
  std::memcpy(buffer.data(), bytes.data(), bytes.size());
  buffer.set_size(bytes.size());
  return buffer;
}

// The next receiver of the chain, as far as the Forwarder can tell: a listener with a ticket,
// and a channel to it once the Forwarder connected.
class FakeDownstream {
 public:
  FakeDownstream() {
    uint16_t port = 0;
    EXPECT_TRUE(ListenTcp("127.0.0.1", 0, &listener_, &port).ok());
    EXPECT_TRUE(Ticket::Generate(port, true, &ticket_).ok());
  }

  Destination destination() const { return {"127.0.0.1", ticket_}; }
  uint16_t port() const { return ticket_.port; }

  std::unique_ptr<Channel> Accept() {
    Socket socket;
    std::unique_ptr<Channel> channel;
    ChannelParams params;
    params.secret = ticket_.secret;
    Status status = AcceptTcp(listener_, Soon(), nullptr, &socket, nullptr);
    if (status.ok())
      status = OpenServerChannel(std::move(socket), params, Soon(), nullptr, &channel);
    EXPECT_TRUE(status.ok()) << status.message();
    return channel;
  }

 private:
  Socket listener_;
  Ticket ticket_;
};

Frame ReadOne(Channel* channel) {
  Frame frame;
  Buffer payload;
  Status status = ReadFrame(channel, &frame.header, &payload, Soon(), nullptr);
  EXPECT_TRUE(status.ok()) << status.message();
  frame.payload = AsString(payload);
  return frame;
}

class ForwarderTest : public ::testing::Test {
 protected:
  // Hands `rounds` x SomeFrames() and then the trailer to the forwarder on another thread; the
  // future is ready once all were handed over, which must not depend on the downstream.
  std::future<void> ForwardInBackground(Forwarder* forwarder, int rounds) {
    return std::async(std::launch::async, [this, forwarder, rounds] {
      for (int round = 0; round < rounds; ++round) {
        for (const Frame& frame : SomeFrames()) {
          forwarder->Forward(frame.header, ToBuffer(&pool_, frame.payload));
        }
      }
      forwarder->Finish("trailer");
    });
  }

  // As the downstream: accepts the forwarder's connection, reads its HELLO (into *hello) and
  // accepts it. Null, with a test failure, when any of that fails.
  std::unique_ptr<Channel> AcceptTheForwarder(std::string* hello) {
    std::unique_ptr<Channel> channel = downstream_.Accept();
    if (!channel) {
      ADD_FAILURE() << "the forwarder did not connect";
      return nullptr;
    }
    Status read = ReadControl(channel.get(), FrameType::kHello, "sender", hello, Soon(), nullptr);
    Status accepted =
        read.ok() ? WriteControl(channel.get(), FrameType::kAccept, "", Soon(), nullptr) : read;
    if (!accepted.ok()) {
      ADD_FAILURE() << accepted.message();
      return nullptr;
    }
    return channel;
  }

  ForwarderTest() {
    options_.forward = downstream_.destination();
    options_.timeout = 10s;
    options_.idle_timeout = 10s;
    options_.log = [this](LogLevel level, std::string_view line) {
      std::lock_guard lock(mu_);
      if (level == LogLevel::kWarning) warnings_ += std::string(line) + "\n";
    };
  }

  std::string warnings() {
    std::lock_guard lock(mu_);
    return warnings_;
  }

  FakeDownstream downstream_;
  ReceiveOptions options_;
  BufferPool pool_{1 << 16, 8};
  const std::string hello_ = "HELLO as the sender sent it";
  std::mutex mu_;
  std::string warnings_;
};

TEST_F(ForwarderTest, ForwardsFramesUnchangedInOrderAndTheTrailerLast) {
  std::vector<Frame> frames = SomeFrames();
  const std::string trailer = "the trailer's payload";
  std::vector<Frame> received;
  std::string hello;
  std::thread peer([&] {
    std::unique_ptr<Channel> channel = AcceptTheForwarder(&hello);
    ASSERT_TRUE(channel);
    do {
      received.push_back(ReadOne(channel.get()));
    } while (received.back().header.type != FrameType::kTrailer && !HasFailure());
    ASSERT_TRUE(WriteControl(channel.get(), FrameType::kResult, "", Soon(), nullptr).ok());
  });
  Forwarder forwarder(options_);
  forwarder.Open(hello_, Hello{}, &pool_);
  for (const Frame& frame : frames)
    forwarder.Forward(frame.header, ToBuffer(&pool_, frame.payload));
  forwarder.Finish(trailer);
  PeerOutcome outcome = forwarder.Wait();
  peer.join();

  EXPECT_TRUE(outcome.ok) << outcome.error;
  EXPECT_EQ(outcome.host, "127.0.0.1");
  EXPECT_EQ(hello, hello_);
  ASSERT_EQ(received.size(), frames.size() + 1);
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(received[i].header.type, frames[i].header.type) << "frame " << i;
    EXPECT_EQ(received[i].header.seq, frames[i].header.seq) << "frame " << i;
    EXPECT_EQ(received[i].header.checksum, frames[i].header.checksum) << "frame " << i;
    EXPECT_EQ(received[i].payload, frames[i].payload) << "frame " << i;
  }
  EXPECT_EQ(received.back().header.type, FrameType::kTrailer);
  EXPECT_EQ(received.back().payload, trailer);
  EXPECT_EQ(warnings(), "");
}

TEST_F(ForwarderTest, RefusalAtHelloTurnsForwardingOffWithoutBlockingThisReceiver) {
  std::thread peer([&] {
    std::unique_ptr<Channel> channel = downstream_.Accept();
    ASSERT_TRUE(channel);
    std::string hello;
    ASSERT_TRUE(
        ReadControl(channel.get(), FrameType::kHello, "sender", &hello, Soon(), nullptr).ok());
    SendErrorAndClose(channel.get(), Status(Code::kExists, "destination /d/top already exists"));
  });
  Forwarder forwarder(options_);
  forwarder.Open(hello_, Hello{}, &pool_);
  // Many more frames than the queue holds: with nobody to send them to, none may wait.
  std::future<void> forwarded = ForwardInBackground(&forwarder, 1);
  ASSERT_EQ(forwarded.wait_for(10s), std::future_status::ready) << "forwarding blocked";
  PeerOutcome outcome = forwarder.Wait();
  peer.join();
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.error, "receiver: destination /d/top already exists");
  EXPECT_EQ(warnings(), "forwarding to 127.0.0.1:" + std::to_string(downstream_.port()) +
                            " stopped, this copy goes on: receiver: destination /d/top already "
                            "exists\n");
}

TEST_F(ForwarderTest, DownstreamVanishingMidStreamStopsForwardingOnly) {
  std::thread peer([&] {
    std::string hello;
    std::unique_ptr<Channel> channel = AcceptTheForwarder(&hello);
    ASSERT_TRUE(channel);
    ReadOne(channel.get());
  });  // the channel closes here, mid-stream
  Forwarder forwarder(options_);
  forwarder.Open(hello_, Hello{}, &pool_);
  std::future<void> forwarded = ForwardInBackground(&forwarder, 20);
  ASSERT_EQ(forwarded.wait_for(30s), std::future_status::ready) << "forwarding blocked";
  PeerOutcome outcome = forwarder.Wait();
  peer.join();
  EXPECT_FALSE(outcome.ok);
  EXPECT_NE(outcome.error.find("127.0.0.1:" + std::to_string(downstream_.port())),
            std::string::npos)
      << outcome.error;
  EXPECT_NE(warnings().find("stopped, this copy goes on"), std::string::npos) << warnings();
}

TEST_F(ForwarderTest, AbortTellsTheDownstreamThatUpstreamFailed) {
  Frame error;
  std::thread peer([&] {
    std::string hello;
    std::unique_ptr<Channel> channel = AcceptTheForwarder(&hello);
    ASSERT_TRUE(channel);
    do {
      error = ReadOne(channel.get());
    } while (error.header.type == FrameType::kData && !HasFailure());
  });
  Forwarder forwarder(options_);
  forwarder.Open(hello_, Hello{}, &pool_);
  std::vector<Frame> frames = SomeFrames();
  forwarder.Forward(frames[0].header, ToBuffer(&pool_, frames[0].payload));
  PeerOutcome outcome = forwarder.Abort(Status(Code::kCorrupt, "checksum mismatch in chunk 1"));
  peer.join();
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(error.header.type, FrameType::kError);
  EXPECT_EQ(error.payload, "upstream failed: checksum mismatch in chunk 1");
}

TEST_F(ForwarderTest, AbortAfterFinishLeavesTheVerdictToTheDownstream) {
  Frame last;
  std::thread peer([&] {
    std::string hello;
    std::unique_ptr<Channel> channel = AcceptTheForwarder(&hello);
    ASSERT_TRUE(channel);
    do {
      last = ReadOne(channel.get());
    } while (last.header.type == FrameType::kData && !HasFailure());
    ASSERT_TRUE(WriteControl(channel.get(), FrameType::kResult, "", Soon(), nullptr).ok());
  });
  Forwarder forwarder(options_);
  forwarder.Open(hello_, Hello{}, &pool_);
  std::vector<Frame> frames = SomeFrames();
  forwarder.Forward(frames[0].header, ToBuffer(&pool_, frames[0].payload));
  forwarder.Finish("trailer");
  // This receiver's own copy failed after the whole stream went on: the downstream decides.
  PeerOutcome outcome = forwarder.Abort(Status(Code::kNoSpace, "writing top/f: No space left"));
  peer.join();
  EXPECT_TRUE(outcome.ok);
  EXPECT_EQ(outcome.error, "");
  EXPECT_EQ(last.header.type, FrameType::kTrailer);
  EXPECT_EQ(last.payload, "trailer");
}

TEST_F(ForwarderTest, AbortBeforeOpenStillTellsTheDownstream) {
  Frame first;
  std::thread peer([&] {
    std::unique_ptr<Channel> channel = downstream_.Accept();
    ASSERT_TRUE(channel);
    first = ReadOne(channel.get());
  });
  Forwarder forwarder(options_);
  PeerOutcome outcome = forwarder.Abort(Status(Code::kExists, "destination /d/top already exists"));
  peer.join();
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(first.header.type, FrameType::kError);
  EXPECT_EQ(first.payload, "upstream failed: destination /d/top already exists");
}

}  // namespace
}  // namespace xfer
