// A test-only sender that holds the ticket but sends hostile content through the real protocol:
// whatever it sends, the receiver refuses with a clear error and writes nothing outside its
// destination.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zstd.h>

#include <functional>
#include <thread>

#include "chunk_codec.h"
#include "content_digest.h"
#include "frame_io.h"
#include "pax_stream_builder.h"
#include "stream_digest.h"
#include "temp_dir.h"
#include "transfer_harness.h"
#include "xfer/receiver.h"

namespace xfer::testing {
namespace {

using ArchiveBuilder = std::function<void(archive*)>;

std::string BuildPax(const ArchiveBuilder& build) {
  std::string out(8 << 20, '\0');
  size_t used = 0;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_open_memory(a, out.data(), out.size(), &used);
  build(a);
  archive_write_close(a);
  archive_write_free(a);
  out.resize(used);
  return out;
}

void AddEntry(archive* a, const std::string& path, mode_t type, const std::string& content = "",
              const std::string& link = "") {
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, path.c_str());
  archive_entry_set_filetype(e, type);
  archive_entry_set_perm(e, 0644);
  if (type == AE_IFLNK) archive_entry_set_symlink(e, link.c_str());
  if (type == AE_IFREG && !link.empty()) {
    archive_entry_set_hardlink(e, link.c_str());
  } else if (type == AE_IFREG) {
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
  }
  archive_write_header(a, e);
  if (!content.empty()) archive_write_data(a, content.data(), content.size());
  archive_entry_free(e);
}

// What the hostile sender puts on the wire after authenticating.
struct Attack {
  std::vector<std::string> top_names = {"top"};
  uint64_t announced_bytes = 1 << 30;
  std::string stream;  // the raw pax stream, sent as stored DATA chunks
  Manifest manifest;   // sent as one MANIFEST frame after the DATA frames, when not empty
  // Replaces the DATA frames when set: sends whatever it likes.
  std::function<Status(Channel*)> custom_frames;
};

class HostileSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mkdir(dst_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir(outside_.c_str(), 0755), 0);
  }

  Status Receive(const Attack& attack) {
    ReceiveOptions options;
    options.dest_dir = dst_;
    options.listen_address = "127.0.0.1";
    options.timeout = std::chrono::seconds(30);
    options.idle_timeout = std::chrono::seconds(30);
    std::unique_ptr<Receiver> receiver;
    Status listened = Receiver::Listen(options, &receiver);
    if (!listened.ok()) return listened;
    Status received;
    Report report;
    std::thread run([&] { received = receiver->Run(&report); });
    Status sent = SendAttack(receiver->ticket(), attack);
    run.join();
    EXPECT_FALSE(sent.ok()) << "the receiver should have refused the attack";
    return received;
  }

  static Status SendAttack(const Ticket& ticket, const Attack& attack) {
    Deadline deadline = Deadline::After(std::chrono::seconds(30));
    Socket socket;
    XFER_RETURN_IF_ERROR(ConnectTcp("127.0.0.1", ticket.port, deadline, nullptr, &socket));
    std::unique_ptr<Channel> channel;
    ChannelParams params;
    params.secret = ticket.secret;
    XFER_RETURN_IF_ERROR(OpenClientChannel(std::move(socket), params, deadline, nullptr, &channel));
    Hello hello;
    hello.chunk_size = 1 << 20;
    hello.entries = 10;
    hello.files = 1;
    hello.content_bytes = attack.announced_bytes;
    hello.allocated_bytes = 0;
    hello.top_names = attack.top_names;
    XFER_RETURN_IF_ERROR(
        WriteControl(channel.get(), FrameType::kHello, EncodeHello(hello), deadline, nullptr));
    std::string ignored;
    XFER_RETURN_IF_ERROR(
        ReadControl(channel.get(), FrameType::kAccept, "receiver", &ignored, deadline, nullptr));
    if (attack.custom_frames) {
      XFER_RETURN_IF_ERROR(attack.custom_frames(channel.get()));
    } else {
      uint64_t seq = 0;
      StreamDigest stream_digest;
      for (size_t at = 0; at < attack.stream.size(); at += hello.chunk_size) {
        std::string_view chunk = std::string_view(attack.stream).substr(at, hello.chunk_size);
        FrameHeader header;
        header.seq = seq++;
        header.payload_len = header.raw_len = static_cast<uint32_t>(chunk.size());
        header.checksum =
            ChunkChecksum(reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size());
        stream_digest.AddChunk(header.raw_len, header.checksum);
        Status status =
            WriteFrame(channel.get(), header, reinterpret_cast<const uint8_t*>(chunk.data()),
                       deadline, nullptr, true);
        if (!status.ok()) break;  // the receiver gave up on us: hear why below
      }
      if (!attack.manifest.empty()) {
        std::string records;
        for (const ManifestRecord& record : attack.manifest) AppendManifestRecord(record, &records);
        FrameHeader header;
        header.type = FrameType::kManifest;
        header.payload_len = header.raw_len = static_cast<uint32_t>(records.size());
        const auto* bytes = reinterpret_cast<const uint8_t*>(records.data());
        header.checksum = ChunkChecksum(bytes, records.size());
        Status ignored_status = WriteFrame(channel.get(), header, bytes, deadline, nullptr, true);
        (void)ignored_status;  // a refusal is heard below
      }
      Trailer trailer;
      trailer.data_frames = seq;
      trailer.stream_bytes = attack.stream.size();
      trailer.manifest_records = attack.manifest.size();
      trailer.stream_digest = stream_digest.Finish();
      Status ignored_status = WriteControl(channel.get(), FrameType::kTrailer,
                                           EncodeTrailer(trailer), deadline, nullptr);
      (void)ignored_status;
    }
    return ReadControl(channel.get(), FrameType::kResult, "receiver", &ignored, deadline, nullptr);
  }

  void ExpectNothingWritten() {
    // What a failed transfer keeps to resume stays hidden in its staging directory.
    EXPECT_TRUE(ListDirIgnoringStaging(dst_).empty()) << "the destination changed";
    EXPECT_TRUE(ListDir(outside_).empty()) << "something was written outside the destination";
  }

  TempDir tmp_;
  std::string dst_ = tmp_.Sub("dst");
  std::string outside_ = tmp_.Sub("outside");
};

TEST_F(HostileSenderTest, RefusesDotDotEntries) {
  for (const std::string& path : {std::string("top/../../outside/x"), std::string("../x")}) {
    Attack attack;
    attack.stream = BuildPax([&](archive* a) {
      AddEntry(a, "top", AE_IFDIR);
      AddEntry(a, path, AE_IFREG, "evil");
    });
    Status status = Receive(attack);
    EXPECT_EQ(status.code(), Code::kUnsafe) << status.message();
    EXPECT_NE(status.message().find(path), std::string::npos) << status.message();
    ExpectNothingWritten();
  }
}

TEST_F(HostileSenderTest, RefusesAbsolutePaths) {
  Attack attack;
  std::string target = outside_ + "/x";
  attack.stream = BuildPax([&](archive* a) { AddEntry(a, target, AE_IFREG, "evil"); });
  Status status = Receive(attack);
  EXPECT_EQ(status.code(), Code::kUnsafe) << status.message();
  ExpectNothingWritten();
}

TEST_F(HostileSenderTest, RefusesEntriesOutsideTheAnnouncedNames) {
  Attack attack;
  attack.stream = BuildPax([&](archive* a) { AddEntry(a, "other/x", AE_IFREG, "evil"); });
  Status status = Receive(attack);
  EXPECT_EQ(status.code(), Code::kUnsafe) << status.message();
  EXPECT_NE(status.message().find("other/x"), std::string::npos) << status.message();
  ExpectNothingWritten();
}

TEST_F(HostileSenderTest, RefusesWritingThroughASymlink) {
  Attack attack;
  attack.stream = BuildPax([&](archive* a) {
    AddEntry(a, "top", AE_IFDIR);
    AddEntry(a, "top/link", AE_IFLNK, "", outside_);
    AddEntry(a, "top/link/evil", AE_IFREG, "evil");
  });
  Status status = Receive(attack);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("top/link"), std::string::npos) << status.message();
  ExpectNothingWritten();
}

TEST_F(HostileSenderTest, RefusesAResumedEntryForAFileTheReceiverDoesNotHold) {
  Attack attack;
  attack.stream = BuildPax([&](archive* a) {
    AddEntry(a, "top", AE_IFDIR);
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, "top/file");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, 4);
    archive_entry_xattr_add_entry(e, "xfer.resume", "4", 1);
    archive_write_header(a, e);
    archive_entry_free(e);
  });
  Status status = Receive(attack);
  EXPECT_EQ(status.code(), Code::kProtocol) << status.message();
  EXPECT_NE(status.message().find("does not hold"), std::string::npos) << status.message();
  ExpectNothingWritten();
}

// The digest binds the hole map: a sparse map that puts a hole where the source has data makes
// the written file differ from the MANIFEST's record, and nothing is committed.
TEST_F(HostileSenderTest, RefusesAHoleWhereTheSourceHasData) {
  constexpr int64_t kBlock = ContentDigest::kBlockSize;
  const std::string a(kBlock, 'a'), b(kBlock, 'b'), c(kBlock, 'c');
  ContentDigest source;
  source.Update((a + b + c).data(), 3 * kBlock);
  Attack attack;
  attack.stream = PaxStreamBuilder()
                      .Dir("top")
                      .SparseFile("top/s", 3 * kBlock, {{0, a}, {2 * kBlock, c}})
                      .Finish();
  attack.manifest = {{"top/s", 3 * kBlock, source.Finish()}};
  Status status = Receive(attack);
  EXPECT_EQ(status.code(), Code::kCorrupt) << status.message();
  EXPECT_EQ(status.message(), "checksum mismatch for top/s");
  ExpectNothingWritten();
}

TEST_F(HostileSenderTest, RefusesHardlinksPointingOutside) {
  WriteFile(outside_ + "/secret", "secret");
  for (const std::string& link : {std::string("../outside/secret"), outside_ + "/secret"}) {
    Attack attack;
    attack.stream = BuildPax([&](archive* a) {
      AddEntry(a, "top", AE_IFDIR);
      AddEntry(a, "top/h", AE_IFREG, "", link);
    });
    Status status = Receive(attack);
    EXPECT_EQ(status.code(), Code::kUnsafe) << status.message();
    EXPECT_TRUE(ListDir(dst_).empty());
    EXPECT_EQ(ReadFile(outside_ + "/secret"), "secret");
  }
}

TEST_F(HostileSenderTest, RefusesMoreContentThanAnnounced) {
  Attack attack;
  attack.announced_bytes = 10;
  attack.stream = BuildPax([&](archive* a) {
    AddEntry(a, "top", AE_IFDIR);
    AddEntry(a, "top/big", AE_IFREG, std::string(3 << 20, 'x'));
  });
  Status status = Receive(attack);
  EXPECT_EQ(status.code(), Code::kProtocol) << status.message();
  EXPECT_NE(status.message().find("more file content than"), std::string::npos);
  ExpectNothingWritten();
}

TEST_F(HostileSenderTest, RefusesADecompressionBomb) {
  Attack attack;
  attack.custom_frames = [](Channel* channel) {
    std::vector<uint8_t> zeros(16 << 20, 0);
    std::vector<uint8_t> bomb(ZSTD_compressBound(zeros.size()));
    size_t n = ZSTD_compress(bomb.data(), bomb.size(), zeros.data(), zeros.size(), 1);
    FrameHeader header;
    header.flags = kFlagZstd;
    header.payload_len = static_cast<uint32_t>(n);
    header.raw_len = 1 << 20;  // claims 1 MiB; the frame holds 16
    return WriteFrame(channel, header, bomb.data(), Deadline::After(std::chrono::seconds(30)),
                      nullptr);
  };
  Status status = Receive(attack);
  EXPECT_EQ(status.code(), Code::kCorrupt) << status.message();
  ExpectNothingWritten();
}

TEST_F(HostileSenderTest, RefusesAHugeLengthField) {
  Attack attack;
  attack.custom_frames = [](Channel* channel) {
    uint8_t header[kFrameHeaderSize] = {};
    header[0] = static_cast<uint8_t>(FrameType::kData);
    header[4] = header[5] = header[6] = header[7] = 0xff;  // payload_len 4 GiB - 1
    return channel->WriteAll(header, sizeof header, Deadline::After(std::chrono::seconds(30)),
                             nullptr);
  };
  Status status = Receive(attack);
  EXPECT_EQ(status.code(), Code::kProtocol) << status.message();
  ExpectNothingWritten();
}

TEST_F(HostileSenderTest, RefusesAStreamThatIsNotAnArchive) {
  Attack attack;
  attack.stream = std::string(4096, 'g');
  Status status = Receive(attack);
  EXPECT_FALSE(status.ok());
  ExpectNothingWritten();
}

TEST_F(HostileSenderTest, RefusesAChunkWithAWrongChecksum) {
  Attack attack;
  attack.custom_frames = [](Channel* channel) {
    std::string chunk(4096, 'x');
    FrameHeader header;
    header.payload_len = header.raw_len = static_cast<uint32_t>(chunk.size());
    header.checksum = 12345;
    return WriteFrame(channel, header, reinterpret_cast<const uint8_t*>(chunk.data()),
                      Deadline::After(std::chrono::seconds(30)), nullptr);
  };
  Status status = Receive(attack);
  EXPECT_EQ(status.code(), Code::kCorrupt) << status.message();
  ExpectNothingWritten();
}

}  // namespace
}  // namespace xfer::testing
