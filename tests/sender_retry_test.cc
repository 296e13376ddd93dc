// xfer-send against a receiver that turns it away before authentication (not listening yet, or
// busy pushing a flood out): it connects again, with back-off, until its --timeout, and says so
// once. A receiver that proved to hold another secret is not tried again.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <string>

#include "socket.h"
#include "socket_probe.h"
#include "tcp_proxy.h"
#include "temp_dir.h"
#include "text_match.h"
#include "transfer_harness.h"
#include "tree_compare.h"
#include "xfer/ticket.h"

namespace xfer::testing {
namespace {

uint16_t PortOf(const std::string& ticket_text) {
  Ticket ticket;
  EXPECT_TRUE(Ticket::Parse(ticket_text, &ticket).ok());
  return ticket.port;
}

size_t Occurrences(const std::string& text, const std::string& part) {
  size_t count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

class SenderRetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mkdir(src_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((src_ + "/data").c_str(), 0755), 0);
    WriteFile(src_ + "/data/hello.txt", "hello, world\n");
    ASSERT_EQ(mkdir(dst_.c_str(), 0755), 0);
  }

  TempDir tmp_;
  std::string src_ = tmp_.Sub("src");
  std::string dst_ = tmp_.Sub("dst");
};

TEST_F(SenderRetryTest, ConnectsAgainAfterConnectionsClosedBeforeAuthentication) {
  std::string ticket;
  auto receiver = StartReceiver(dst_, {}, &ticket);
  ASSERT_FALSE(ticket.empty()) << receiver->stderr_text();
  // Cuts the first two connections as soon as the sender speaks, as a receiver pushing a flood
  // out does; lets the third through.
  std::atomic<int> connections{0};
  TcpProxy turnstile(PortOf(ticket), [&](uint64_t offset, uint8_t*, size_t) {
    return offset > 0 || connections.fetch_add(1) >= 2;
  });
  auto sender = StartSender(TicketWithPort(ticket, turnstile.port()), {src_ + "/data"});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  EXPECT_TRUE(CompareTrees(src_ + "/data", dst_ + "/data").empty());
  EXPECT_EQ(connections.load(), 3);
  const std::string& err = sender->stderr_text();
  EXPECT_EQ(
      Occurrences(err, "retrying connection to 127.0.0.1:" + std::to_string(turnstile.port())), 1u)
      << err;
  EXPECT_EQ(err.find(ticket.substr(ticket.rfind(':') + 1)), std::string::npos) << err;
}

TEST_F(SenderRetryTest, RefusedConnectionsAreTriedUntilTheTimeout) {
  uint16_t closed_port = 0;
  Socket refusing = RefusingPort(&closed_port);
  Ticket ticket;
  ASSERT_TRUE(Ticket::Generate(closed_port, true, &ticket).ok());
  auto sender = StartSender(ticket.Format(), {src_ + "/data"}, {"--timeout", "1"});
  EXPECT_EQ(sender->Wait(), 1) << "a failed transfer";
  const std::string& err = sender->stderr_text();
  std::string where = "127.0.0.1:" + std::to_string(closed_port);
  EXPECT_EQ(Occurrences(err, "retrying connection to " + where), 1u) << err;
  EXPECT_NE(err.find("connecting to " + where + ": Connection refused (after "), std::string::npos)
      << err;
}

TEST_F(SenderRetryTest, ReceiverWithAnotherSecretIsNotTriedAgain) {
  std::string ticket;
  auto receiver = StartReceiver(dst_, {}, &ticket);
  ASSERT_FALSE(ticket.empty()) << receiver->stderr_text();
  Ticket other;
  ASSERT_TRUE(Ticket::Generate(PortOf(ticket), true, &other).ok());
  auto sender = StartSender(other.Format(), {src_ + "/data"});
  EXPECT_EQ(sender->Wait(), 1) << "a failed transfer";
  const std::string& err = sender->stderr_text();
  EXPECT_NE(err.find("does not hold the ticket's secret"), std::string::npos) << err;
  EXPECT_EQ(err.find("retrying"), std::string::npos) << err;
}

}  // namespace
}  // namespace xfer::testing
