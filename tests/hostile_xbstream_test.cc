// What an authenticated but hostile sender can do to a target of `xfer --type mariabackup`,
// which feeds the stream to `xfer-recv --exec 'mbstream -x' DIR`: the sender controls the names
// in the xbstream. These tests send hand-made xbstreams through the real xfer-send and xfer-recv
// into the real mbstream, and check that nothing lands outside DIR.
//
// xbstream, as `mbstream -c` writes it (checked byte for byte against mbstream 10.11): chunks
// of "XBSTCK01", a flags byte, a type byte ('P' payload, 'E' end of file), the path's length
// (uint32 LE) and the path; a payload chunk then has its length and its offset in the file
// (uint64 LE each), the CRC-32 of the payload (uint32 LE) and the payload.
//
// Found with mbstream 10.11.19 (Debian 12): names that are absolute, or hold a ".." component
// (or start with "."), are refused ("mbstream: invalid filename NAME"): mbstream then stops
// reading and exits 0, so xfer-recv fails the transfer ("exited before the end of the stream")
// as long as more of the stream follows, and nothing is committed. The stream cannot make a
// symlink, and the staging directory mbstream writes in holds none. The MariaDB source of older
// releases shows no such check (the local datasink joined the name to "." as it came).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "child_process.h"
#include "program_paths.h"
#include "run_command.h"
#include "temp_dir.h"
#include "transfer_harness.h"

namespace xfer::testing {
namespace {

uint32_t Crc32(const std::string& data) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char byte : data) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void PutLittleEndian(uint64_t value, int bytes, std::string* out) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>(value >> (8 * i)));
}

// One xbstream chunk: 'P' with the payload at offset 0, or 'E' (the payload unused).
std::string Chunk(char type, const std::string& path, const std::string& payload = "") {
  std::string chunk = "XBSTCK01";
  chunk.push_back('\0');  // flags
  chunk.push_back(type);
  PutLittleEndian(path.size(), 4, &chunk);
  chunk += path;
  if (type == 'E') return chunk;
  PutLittleEndian(payload.size(), 8, &chunk);
  PutLittleEndian(0, 8, &chunk);
  PutLittleEndian(Crc32(payload), 4, &chunk);
  return chunk + payload;
}

// A whole file: its payload chunk, then its end.
std::string File(const std::string& path, const std::string& content) {
  return Chunk('P', path, content) + Chunk('E', path);
}

class HostileXbstreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mbstream_ = cli::FindProgram("mbstream");
    if (mbstream_.empty()) GTEST_SKIP() << "mbstream is missing (install mariadb-backup)";
    std::filesystem::create_directory(dst_);
  }

  // Sends stream the way `xfer --type mariabackup` does (xfer-send --exec CMD, xfer-recv --exec
  // 'mbstream -x' DIR) and returns xfer-recv's exit status.
  int Send(const std::string& stream) {
    WriteFile(tmp_.Sub("stream.xbs"), stream);
    std::string ticket;
    auto receiver = StartReceiver(dst_, {"--exec", mbstream_ + " -x"}, &ticket);
    EXPECT_FALSE(ticket.empty()) << receiver->stderr_text();
    auto sender = StartSender(ticket, {}, {"--exec", "cat " + tmp_.Sub("stream.xbs")});
    sender->Wait(std::chrono::seconds(60));
    int status = receiver->Wait(std::chrono::seconds(60));
    receiver_err_ = receiver->stderr_text();
    return status;
  }

  // A file mbstream must never write: beside DIR, in the test's directory.
  std::string Outside(const std::string& name) const { return tmp_.Sub(name); }

  TempDir tmp_;
  std::string dst_ = tmp_.Sub("dst");
  std::string mbstream_;
  std::string receiver_err_;
};

// More than a pipe holds, after the hostile entry: mbstream stops reading at it.
std::string Filler() { return File("after/ibdata1", std::string(1 << 20, 'x')); }

TEST_F(HostileXbstreamTest, AStreamOfPlainNamesArrives) {
  ASSERT_EQ(Send(File("db/t.ibd", "pages") + File("xtrabackup_checkpoints", "lsn")), 0)
      << receiver_err_;
  EXPECT_EQ(ReadFile(dst_ + "/db/t.ibd"), "pages");
  EXPECT_EQ(ReadFile(dst_ + "/xtrabackup_checkpoints"), "lsn");
}

TEST_F(HostileXbstreamTest, DotDotNamesLandNowhere) {
  for (std::string name : {"../escape", "db/../../escape", "a/b/../../../escape"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(Send(File("db/t.ibd", "pages") + File(name, "owned") + Filler()), 1) << receiver_err_;
    EXPECT_NE(receiver_err_.find("exited before the end of the stream"), std::string::npos)
        << receiver_err_;
    EXPECT_FALSE(std::filesystem::exists(Outside("escape")));
    EXPECT_EQ(ListDir(dst_), std::vector<std::string>{}) << "committed after " << name;
  }
}

TEST_F(HostileXbstreamTest, AbsoluteNamesLandNowhere) {
  std::string target = Outside("absolute");
  for (const std::string& name : {target, "/" + target}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(Send(File(name, "owned") + Filler()), 1) << receiver_err_;
    EXPECT_NE(receiver_err_.find("exited before the end of the stream"), std::string::npos)
        << receiver_err_;
    EXPECT_FALSE(std::filesystem::exists(target));
    EXPECT_EQ(ListDir(dst_), std::vector<std::string>{});
  }
}

}  // namespace
}  // namespace xfer::testing
