// Holes cost nothing (issue 14 §5): a 1 TiB sparse file holding 10 MiB of data crosses with the
// real programs on loopback, is verified (manifest and --checksum re-read), keeps its holes,
// counts them as done in its progress, and resumes from a held prefix. Reading, writing or hashing
// the holes would take minutes: every run has a 60 s deadline, and no timing is asserted
// (bench/sparse.sh measures the time).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>
#include <regex>
#include <sstream>

#include "json_number.h"
#include "tcp_proxy.h"
#include "temp_dir.h"
#include "transfer_harness.h"

namespace xfer::testing {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kTiB = uint64_t{1} << 40;
constexpr int kPieces = 10;
constexpr auto kDeadline = std::chrono::seconds(60);

// Piece i: 1 MiB of incompressible data, at a MiB boundary a tenth of the file further each.
uint64_t PieceOffset(int i) { return kTiB / kPieces * i / kMiB * kMiB; }

std::string Piece(int i) {
  std::mt19937_64 random(100 + i);
  std::string bytes(kMiB, '\0');
  for (size_t at = 0; at < bytes.size(); at += 8) {
    uint64_t value = random();
    std::memcpy(&bytes[at], &value, 8);
  }
  return bytes;
}

std::string ReadAt(int fd, uint64_t offset, size_t len) {
  std::string bytes(len, '\0');
  EXPECT_EQ(pread(fd, bytes.data(), len, static_cast<off_t>(offset)), static_cast<ssize_t>(len));
  return bytes;
}

class SparseTransferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mkdir(src_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir(dst_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((src_ + "/data").c_str(), 0755), 0);
    const std::string path = src_ + "/data/huge";
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0) << path;
    const bool sized = ftruncate(fd, static_cast<off_t>(kTiB)) == 0;
    for (int i = 0; sized && i < kPieces; ++i) {
      const std::string piece = Piece(i);
      ASSERT_EQ(pwrite(fd, piece.data(), piece.size(), static_cast<off_t>(PieceOffset(i))),
                static_cast<ssize_t>(piece.size()));
    }
    struct stat st;
    ASSERT_EQ(fstat(fd, &st), 0);
    close(fd);
    if (!sized) GTEST_SKIP() << "the filesystem under " << tmp_.path() << " holds no 1 TiB file";
    if (static_cast<uint64_t>(st.st_blocks) * 512 > 64 * kMiB) {
      GTEST_SKIP() << "the filesystem under " << tmp_.path() << " does not keep holes";
    }
    WriteFile(src_ + "/data/small.txt", "small\n");
  }

  // The copy holds every piece where the source has it, zeros between, and is still sparse.
  void ExpectSparseCopy() {
    const std::string path = dst_ + "/data/huge";
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << path;
    struct stat st;
    ASSERT_EQ(fstat(fd, &st), 0);
    EXPECT_EQ(static_cast<uint64_t>(st.st_size), kTiB);
    EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, 64 * kMiB) << "the holes were filled";
    for (int i = 0; i < kPieces; ++i) {
      EXPECT_TRUE(ReadAt(fd, PieceOffset(i), kMiB) == Piece(i)) << "piece " << i << " differs";
      EXPECT_EQ(ReadAt(fd, PieceOffset(i) + kMiB, 4096), std::string(4096, '\0')) << i;
    }
    close(fd);
    EXPECT_EQ(ReadFile(dst_ + "/data/small.txt"), "small\n");
  }

  // Runs both programs to the end within the deadline; returns the receiver's result line.
  std::string Transfer(const std::vector<std::string>& receiver_args,
                       const std::vector<std::string>& sender_args) {
    std::string ticket;
    auto receiver = StartReceiver(dst_, receiver_args, &ticket);
    auto sender = StartSender(ticket, {src_ + "/data"}, sender_args);
    EXPECT_EQ(sender->Wait(kDeadline), 0)
        << "not done within 60 s, or failed: " << sender->stderr_text();
    EXPECT_EQ(receiver->Wait(kDeadline), 0)
        << "not done within 60 s, or failed: " << receiver->stderr_text();
    return receiver->ReadStdoutLine();
  }

  TempDir tmp_;
  std::string src_ = tmp_.Sub("src");
  std::string dst_ = tmp_.Sub("dst");
};

TEST_F(SparseTransferTest, ATebibyteOfHolesCrossesVerifiedAndStaysSparse) {
  const std::string received = Transfer({"--checksum"}, {});
  ExpectSparseCopy();
  // Progress and the result count the holes as content done.
  EXPECT_EQ(JsonNumber(received, "bytes"), kTiB + 6) << received;
}

// The percentage moves with the holes: while data is still on its way (the sender held to
// 2 MB/s, so that the events, once a second, fall every 2 MB or less), the content done already
// counts every hole passed.
TEST_F(SparseTransferTest, ProgressCountsTheHolesAsDone) {
  std::string ticket;
  auto receiver = StartReceiver(dst_, {"--json"}, &ticket);
  auto sender = StartSender(ticket, {src_ + "/data"}, {"--limit-rate", "2M", "--no-compress"});
  ASSERT_EQ(sender->Wait(kDeadline), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(kDeadline), 0) << receiver->stderr_text();
  std::istringstream lines(receiver->stdout_text());
  int midway = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"event\":\"progress\"") == std::string::npos) continue;
    const uint64_t wire = JsonNumber(line, "wire_bytes");
    if (wire < 3 * kMiB || wire > 9 * kMiB) continue;
    ++midway;
    // The 1 MiB chunk holding the start of piece 1 arrived whole: the hole before it passed, so
    // more than a tenth of the file is done.
    EXPECT_GT(JsonNumber(line, "bytes"), PieceOffset(1)) << line;
    EXPECT_EQ(JsonNumber(line, "total_bytes"), kTiB + 6) << line;
  }
  EXPECT_GT(midway, 0) << "no progress event while the data crossed:\n" << receiver->stdout_text();
}

TEST_F(SparseTransferTest, AnInterruptedSparseFileResumesFromItsHeldPrefix) {
  {
    std::string ticket;
    auto receiver = StartReceiver(dst_, {"--resume"}, &ticket);
    // Cut once 9 of the 10 pieces went: even with the chunks in flight lost (a few MiB under
    // load), the receiver holds a prefix of hundreds of GiB.
    TcpProxy proxy(static_cast<uint16_t>(std::stoi(ticket.substr(6))),
                   [](uint64_t offset, uint8_t*, size_t len) { return offset + len < 9 * kMiB; });
    auto sender = StartSender(TicketWithPort(ticket, proxy.port()), {src_ + "/data"},
                              {"--resume", "--no-compress"});
    EXPECT_NE(sender->Wait(kDeadline), 0) << "the interrupted sender succeeded";
    EXPECT_NE(receiver->Wait(kDeadline), 0) << "the interrupted receiver succeeded";
  }
  const std::string received = Transfer({"--resume"}, {"--resume"});
  ExpectSparseCopy();
  EXPECT_EQ(JsonNumber(received, "resumed_files"), 1u) << received;
  EXPECT_GT(JsonNumber(received, "resumed_bytes"), PieceOffset(1)) << received;
}

}  // namespace
}  // namespace xfer::testing
