// End to end: a --no-encrypt transfer through a man in the middle who has no ticket but knows the
// protocol. He relays the HMAC handshake, then changes, drops, repeats or cuts frames and
// recomputes every unkeyed check (chunk XXH3-64, manifest XXH3-128, the TRAILER's counts and
// stream digest). The data's MAC must still catch him: the receiver refuses, nothing is
// committed, and both programs fail.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "content_digest.h"
#include "plain_stream_rewriter.h"
#include "tcp_proxy.h"
#include "temp_dir.h"
#include "transfer_harness.h"
#include "tree_builder.h"

namespace xfer::testing {
namespace {

using Action = PlainStreamRewriter::Action;

constexpr char kGood[] = "pay to: GOOD-ACCOUNT\n";
constexpr char kEvil[] = "pay to: EVIL-ACCOUNT\n";

Digest128 DigestOf(std::string_view text) {
  ContentDigest hasher;
  hasher.Update(text.data(), text.size());
  return hasher.Finish();
}

// Replaces every occurrence of from by to (same length) in bytes; returns how many.
int ReplaceAll(std::vector<uint8_t>* bytes, const std::vector<uint8_t>& from,
               const std::vector<uint8_t>& to) {
  int count = 0;
  for (auto it = bytes->begin();
       (it = std::search(it, bytes->end(), from.begin(), from.end())) != bytes->end(); ++count) {
    it = std::copy(to.begin(), to.end(), it);
  }
  return count;
}

std::vector<uint8_t> Bytes(std::string_view text) { return {text.begin(), text.end()}; }

// A manifest record's digest field: high then low, little-endian.
std::vector<uint8_t> DigestBytes(const Digest128& digest) {
  std::vector<uint8_t> out;
  for (uint64_t half : {digest.high, digest.low}) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(half >> (8 * i)));
  }
  return out;
}

class PlainIntegrityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mkdir(dst_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir(src_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((src_ + "/data").c_str(), 0755), 0);
    WriteFile(src_ + "/data/account.txt", kGood);
    WriteRandomFile(src_ + "/data/filler.bin", 256 << 10);
    WriteRandomFile(stream_, 1 << 20);
    before_ = ListDir(dst_);
  }

  // Runs xfer-recv --no-encrypt and xfer-send through the rewriting proxy; fills the exits.
  void Run(const std::vector<std::string>& receiver_args, const std::vector<std::string>& paths,
           const std::vector<std::string>& sender_args, PlainStreamRewriter::Edit edit) {
    std::vector<std::string> args{"--no-encrypt"};
    args.insert(args.end(), receiver_args.begin(), receiver_args.end());
    std::string ticket;
    receiver_ = StartReceiver(dst_, args, &ticket);
    rewriter_ = std::make_unique<PlainStreamRewriter>(std::move(edit));
    TcpProxy::Hooks hooks;
    hooks.rewrite_upstream = [this](const uint8_t* data, size_t len) {
      return rewriter_->Rewrite(data, len);
    };
    TcpProxy proxy(static_cast<uint16_t>(std::stoi(ticket.substr(6))), hooks);
    sender_ = StartSender(TicketWithPort(ticket, proxy.port()), paths, sender_args);
    sender_exit_ = sender_->Wait();
    receiver_exit_ = receiver_->Wait();
  }

  // A byte stream of 16 stored chunks into a receiver's --exec command, edited by edit.
  void RunStream(PlainStreamRewriter::Edit edit) {
    Run({"--exec", "dd of=copy.bin status=none"}, {},
        {"--no-compress", "--chunk-size", "64K", "--exec", "cat " + stream_}, std::move(edit));
  }

  void ExpectRefusedAndNothingCommitted(const std::string& why = "failed authentication") {
    EXPECT_EQ(receiver_exit_, 1) << receiver_->stderr_text();
    EXPECT_NE(sender_exit_, 0) << sender_->stderr_text();
    EXPECT_NE(receiver_->stderr_text().find(why), std::string::npos) << receiver_->stderr_text();
    EXPECT_EQ(ListDir(dst_), before_);
  }

  TempDir tmp_;
  std::string src_ = tmp_.Sub("src");
  std::string dst_ = tmp_.Sub("dst");
  std::string stream_ = tmp_.Sub("stream.bin");
  std::vector<std::string> before_;
  std::unique_ptr<PlainStreamRewriter> rewriter_;
  std::unique_ptr<ChildProcess> receiver_;
  std::unique_ptr<ChildProcess> sender_;
  int receiver_exit_ = -1;
  int sender_exit_ = -1;
};

TEST_F(PlainIntegrityTest, RelayThatChangesNothingDeliversTheData) {
  Run({}, {src_ + "/data"}, {"--no-compress"},
      [](FrameHeader*, std::vector<uint8_t>*) { return Action::kPass; });
  EXPECT_EQ(sender_exit_, 0) << sender_->stderr_text();
  EXPECT_EQ(receiver_exit_, 0) << receiver_->stderr_text();
  EXPECT_EQ(ReadFile(dst_ + "/data/account.txt"), kGood);
  EXPECT_TRUE(rewriter_->saw_records()) << "plain mode version 2 carries frames in MAC'd records";
}

TEST_F(PlainIntegrityTest, RefusesAChunkRewrittenWithEveryChecksumRecomputed) {
  int chunks_changed = 0;
  Run({}, {src_ + "/data"}, {"--no-compress"},
      [&](FrameHeader* header, std::vector<uint8_t>* payload) {
        if (header->type == FrameType::kData) {
          chunks_changed += ReplaceAll(payload, Bytes(kGood), Bytes(kEvil));
        } else if (header->type == FrameType::kManifest) {
          ReplaceAll(payload, DigestBytes(DigestOf(kGood)), DigestBytes(DigestOf(kEvil)));
        }
        return Action::kPass;
      });
  // The manifest record is rewritten too, unless the receiver hung up before it came.
  EXPECT_EQ(chunks_changed, 1);
  ExpectRefusedAndNothingCommitted();
}

TEST_F(PlainIntegrityTest, RefusesADroppedChunk) {
  RunStream([](FrameHeader* header, std::vector<uint8_t>*) {
    return header->type == FrameType::kData && header->seq == 3 ? Action::kDrop : Action::kPass;
  });
  ExpectRefusedAndNothingCommitted();
}

TEST_F(PlainIntegrityTest, RefusesAReplayedChunk) {
  RunStream([](FrameHeader* header, std::vector<uint8_t>*) {
    return header->type == FrameType::kData && header->seq == 3 ? Action::kRepeat : Action::kPass;
  });
  ExpectRefusedAndNothingCommitted();
}

TEST_F(PlainIntegrityTest, RefusesAStreamCutShortUnderAForgedTrailer) {
  RunStream([](FrameHeader* header, std::vector<uint8_t>*) {
    return header->type == FrameType::kData && header->seq == 8 ? Action::kCut : Action::kPass;
  });
  ExpectRefusedAndNothingCommitted();
}

// Needs no MAC: the receiver commits only after a TRAILER, and a TRAILER is sent only at the end.
TEST_F(PlainIntegrityTest, RefusesAStreamThatEndsCleanlyMidway) {
  constexpr uint64_t kMidway = 512 << 10;
  std::string ticket;
  receiver_ =
      StartReceiver(dst_, {"--no-encrypt", "--exec", "dd of=copy.bin status=none"}, &ticket);
  TcpProxy::Hooks hooks;
  hooks.upstream = [](uint64_t offset, uint8_t*, size_t len) {
    TcpProxy::Decision decision;
    if (offset + len >= kMidway)
      decision = {kMidway - offset, TcpProxy::Decision::Then::kEndStream};
    return decision;
  };
  {
    TcpProxy proxy(static_cast<uint16_t>(std::stoi(ticket.substr(6))), hooks);
    sender_ = StartSender(TicketWithPort(ticket, proxy.port()), {},
                          {"--no-compress", "--chunk-size", "64K", "--exec", "cat " + stream_});
    sender_exit_ = sender_->Wait();
    receiver_exit_ = receiver_->Wait();
  }
  ExpectRefusedAndNothingCommitted("connection from sender lost");
}

}  // namespace
}  // namespace xfer::testing
