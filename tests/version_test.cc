// Versions: --version on every program, and a sender and a receiver of different protocol
// versions meeting. Each side must refuse the other with a message that names both versions, so
// that an operator who upgraded one host and not the other knows at once what to do.
//
// The real programs all speak kProtocolVersion, so the other end of each meeting is played by
// the test: a client that sends a HELLO of the next version to the real xfer-recv, and a server
// that answers the real xfer-send as a receiver of the next version would.
#include "xfer/version.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "channel.h"
#include "frame_io.h"
#include "program_paths.h"
#include "socket.h"
#include "temp_dir.h"
#include "text_match.h"
#include "transfer_harness.h"
#include "wire_format.h"
#include "xfer/ticket.h"

namespace xfer::testing {
namespace {

constexpr uint16_t kOtherVersion = kProtocolVersion + 1;

Deadline Soon() { return Deadline::After(std::chrono::seconds(30)); }

std::string ExpectedVersionLine(const std::string& program) {
  return program + " " XFER_VERSION " (protocol " + std::to_string(kProtocolVersion) + ")\n";
}

std::string Mismatch(uint16_t sender, uint16_t receiver) {
  return "protocol version mismatch: sender speaks " + std::to_string(sender) +
         ", receiver speaks " + std::to_string(receiver);
}

void ExpectVersionLine(const std::string& binary, const std::string& program) {
  ChildProcess child({binary, "--version"});
  ASSERT_EQ(child.Wait(), 0) << child.stderr_text();
  EXPECT_EQ(child.stdout_text(), ExpectedVersionLine(program));
}

TEST(VersionTest, XferPrintsTheProjectVersionAndProtocol) {
  ExpectVersionLine(XFER_ORCHESTRATOR_BIN_PATH, "xfer");
}

TEST(VersionTest, XferSendPrintsTheProjectVersionAndProtocol) {
  ExpectVersionLine(XferSendPath(), "xfer-send");
}

TEST(VersionTest, XferRecvPrintsTheProjectVersionAndProtocol) {
  ExpectVersionLine(XferRecvPath(), "xfer-recv");
}

// A sender of the next protocol version: authenticates with the ticket, then says HELLO with
// its version. Returns what the receiver answered.
Status HelloFromOtherVersion(const std::string& ticket_line) {
  Ticket ticket;
  XFER_RETURN_IF_ERROR(Ticket::Parse(ticket_line, &ticket));
  Socket socket;
  XFER_RETURN_IF_ERROR(ConnectTcp("127.0.0.1", ticket.port, Soon(), nullptr, &socket));
  ChannelParams params;
  params.secret = ticket.secret;
  params.encrypt = ticket.encrypt;
  std::unique_ptr<Channel> channel;
  XFER_RETURN_IF_ERROR(OpenClientChannel(std::move(socket), params, Soon(), nullptr, &channel));
  Hello hello;
  hello.version = kOtherVersion;
  hello.chunk_size = 1 << 20;
  hello.entries = 1;
  hello.files = 1;
  hello.content_bytes = 5;
  hello.allocated_bytes = 4096;
  hello.top_names = {"data"};
  XFER_RETURN_IF_ERROR(
      WriteControl(channel.get(), FrameType::kHello, EncodeHello(hello), Soon(), nullptr));
  std::string ignored;
  return ReadControl(channel.get(), FrameType::kAccept, "receiver", &ignored, Soon(), nullptr);
}

TEST(VersionTest, ReceiverRefusesSenderOfAnotherVersionNamingBoth) {
  TempDir tmp;
  std::string dst = tmp.Sub("dst");
  ASSERT_EQ(mkdir(dst.c_str(), 0755), 0);
  std::string ticket;
  auto receiver = StartReceiver(dst, {}, &ticket);
  ASSERT_FALSE(ticket.empty()) << receiver->stderr_text();

  Status answer = HelloFromOtherVersion(ticket);
  // The sender's side: an ERROR frame, not a bare disconnect, whose text names both versions.
  EXPECT_EQ(answer.code(), Code::kPeerFailed) << answer.message();
  EXPECT_EQ(answer.message(), "receiver: " + Mismatch(kOtherVersion, kProtocolVersion));

  // The receiver's side: exit 1 with one line naming both, and nothing in DIR.
  EXPECT_EQ(receiver->Wait(), 1);
  EXPECT_TRUE(Contains(receiver->stderr_text(),
                       "xfer-recv: error: " + Mismatch(kOtherVersion, kProtocolVersion) + "\n"));
  EXPECT_TRUE(ListDir(dst).empty());
}

// A receiver of the next protocol version, for the real xfer-send: listens, authenticates the
// sender with the ticket's secret, reads its HELLO and refuses it with the ERROR that receiver's
// DecodeHello would send.
class OtherVersionReceiver {
 public:
  OtherVersionReceiver() {
    Status listened = ListenTcp("127.0.0.1", 0, &listener_, &port_);
    EXPECT_TRUE(listened.ok()) << listened.message();
    Status generated = Ticket::Generate(port_, /*encrypt=*/true, &ticket_);
    EXPECT_TRUE(generated.ok()) << generated.message();
  }

  std::string ticket() const { return ticket_.Format(); }

  Status ServeOne(uint16_t* sender_version) {
    Socket socket;
    std::string peer;
    XFER_RETURN_IF_ERROR(AcceptTcp(listener_, Soon(), nullptr, &socket, &peer));
    ChannelParams params;
    params.secret = ticket_.secret;
    std::unique_ptr<Channel> channel;
    XFER_RETURN_IF_ERROR(OpenServerChannel(std::move(socket), params, Soon(), nullptr, &channel));
    std::string payload;
    XFER_RETURN_IF_ERROR(
        ReadControl(channel.get(), FrameType::kHello, "sender", &payload, Soon(), nullptr));
    // This build's decoder reads the sender's HELLO; a receiver of the next version would then
    // find that version different from its own.
    Hello hello;
    XFER_RETURN_IF_ERROR(DecodeHello(payload, &hello));
    *sender_version = hello.version;
    SendErrorAndClose(channel.get(),
                      Status(Code::kProtocol, Mismatch(hello.version, kOtherVersion)));
    return Status::Ok();
  }

 private:
  Socket listener_;
  uint16_t port_ = 0;
  Ticket ticket_;
};

TEST(VersionTest, SenderReportsReceiverOfAnotherVersionRefusingItNamingBoth) {
  TempDir tmp;
  ASSERT_EQ(mkdir(tmp.Sub("data").c_str(), 0755), 0);
  WriteFile(tmp.Sub("data/hello.txt"), "hello\n");
  OtherVersionReceiver receiver;
  auto sender = StartSender(receiver.ticket(), {tmp.Sub("data")});

  uint16_t sender_version = 0;
  Status served = receiver.ServeOne(&sender_version);
  ASSERT_TRUE(served.ok()) << served.message() << "\n" << sender->stderr_text();
  EXPECT_EQ(sender_version, kProtocolVersion);

  EXPECT_EQ(sender->Wait(), 1);
  EXPECT_TRUE(
      Contains(sender->stderr_text(),
               "xfer-send: error: receiver: " + Mismatch(kProtocolVersion, kOtherVersion) + "\n"));
  EXPECT_EQ(sender->stdout_text(), "") << "no result line for a refused transfer";
}

}  // namespace
}  // namespace xfer::testing
