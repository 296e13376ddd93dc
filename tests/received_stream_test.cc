#include "received_stream.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "chunk_codec.h"
#include "stream_digest.h"
#include "written_files.h"

namespace xfer {
namespace {

Buffer BufferOf(const std::string& bytes) {
  Buffer buffer(bytes.size());
  if (!bytes.empty()) std::memcpy(buffer.data(), bytes.data(), bytes.size());
  buffer.set_size(bytes.size());
  return buffer;
}

// The end of a stream with no DATA: MANIFEST frames (one per payload) and the TRAILER, through
// the same workers and per-frame decoding as the receiver's.
class StreamEnd {
 public:
  StreamEnd()
      : workers_(1, 4, [this](ReceivedFrame& f) { return DecodeReceivedFrame(f, &pool_); }) {}

  void Manifest(const std::string& payload) {
    ReceivedFrame frame;
    frame.header.type = FrameType::kManifest;
    frame.header.seq = manifest_seq_++;
    frame.header.payload_len = frame.header.raw_len = static_cast<uint32_t>(payload.size());
    frame.header.checksum =
        ChunkChecksum(reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
    frame.payload = BufferOf(payload);
    ASSERT_TRUE(workers_.Submit(std::move(frame)));
  }

  void Trailer(uint64_t manifest_records) {
    xfer::Trailer trailer;
    trailer.manifest_records = manifest_records;
    trailer.stream_digest = StreamDigest().Finish();
    std::string payload = EncodeTrailer(trailer);
    ReceivedFrame frame;
    frame.header.type = FrameType::kTrailer;
    frame.header.payload_len = static_cast<uint32_t>(payload.size());
    frame.payload = BufferOf(payload);
    ASSERT_TRUE(workers_.Submit(std::move(frame)));
    workers_.Finish();
  }

  Status Verify(const xfer::Manifest& written) {
    ReceivedStream stream(&workers_, &pool_, hello_, &counters_, nullptr, nullptr);
    WrittenFiles files = testing::WrittenOf(written);
    return stream.VerifyEnd(&files);
  }

 private:
  BufferPool pool_{1 << 16, 4};
  OrderedWorkers<ReceivedFrame> workers_;
  Hello hello_;
  ExtractCounters counters_;
  uint64_t manifest_seq_ = 0;
};

ManifestRecord Record(const std::string& path, uint64_t size) {
  return ManifestRecord{path, size, Digest128{size, ~size}};
}

TEST(ReceivedStream, AcceptsManifestSplitAcrossFramesThatMatchesTheFilesWritten) {
  std::string records;
  AppendManifestRecord(Record("top/a", 1), &records);
  AppendManifestRecord(Record("top/b", 2), &records);
  StreamEnd end;
  end.Manifest(records.substr(0, 7));
  end.Manifest(records.substr(7));
  end.Trailer(2);
  EXPECT_TRUE(end.Verify({Record("top/a", 1), Record("top/b", 2)}).ok());
}

TEST(ReceivedStream, NamesTheFirstRecordThatDiffersFromTheFilesWritten) {
  std::string records;
  AppendManifestRecord(Record("top/a", 1), &records);
  AppendManifestRecord(Record("top/x", 2), &records);
  AppendManifestRecord(Record("top/y", 3), &records);
  StreamEnd end;
  end.Manifest(records);
  end.Trailer(3);
  Status status = end.Verify({Record("top/a", 1), Record("top/b", 2), Record("top/c", 3)});
  EXPECT_EQ(status.code(), Code::kCorrupt);
  EXPECT_NE(status.message().find("file 1 written has another path than the sender listed, top/x"),
            std::string::npos)
      << status.message();
}

TEST(ReceivedStream, RefusesManifestListingMoreFilesThanWritten) {
  // Records beyond the files written are counted, not kept (a sender could send any number).
  std::string records;
  for (int i = 0; i < 1000; ++i) AppendManifestRecord(Record("top/f", 0), &records);
  StreamEnd end;
  end.Manifest(records);
  end.Trailer(1000);
  Status status = end.Verify({Record("top/f", 0)});
  EXPECT_EQ(status.code(), Code::kCorrupt);
  EXPECT_NE(status.message().find("listed 1000 files but 1 were written"), std::string::npos)
      << status.message();
}

TEST(ReceivedStream, RefusesManifestWhoseRecordCountDiffersFromTheTrailer) {
  std::string records;
  AppendManifestRecord(Record("top/a", 1), &records);
  StreamEnd end;
  end.Manifest(records);
  end.Trailer(2);
  EXPECT_EQ(end.Verify({Record("top/a", 1)}).code(), Code::kProtocol);
}

}  // namespace
}  // namespace xfer
