#include "xfer/ticket.h"

#include <gtest/gtest.h>

namespace xfer {
namespace {

TEST(Ticket, FormatsPortAndBase64UrlSecret) {
  Ticket ticket;
  ticket.port = 4401;
  for (size_t i = 0; i < ticket.secret.size(); ++i) ticket.secret[i] = static_cast<uint8_t>(i * 8);
  EXPECT_EQ(ticket.Format(), "xfer1:4401:AAgQGCAoMDhASFBYYGhweICIkJigqLC4wMjQ2ODo8Pg");
  ticket.encrypt = false;
  EXPECT_EQ(ticket.Format(), "xfer1:4401:AAgQGCAoMDhASFBYYGhweICIkJigqLC4wMjQ2ODo8Pg:plain");
}

TEST(Ticket, ParsesWhatItFormats) {
  Ticket generated;
  ASSERT_TRUE(Ticket::Generate(65535, false, &generated).ok());
  Ticket parsed;
  ASSERT_TRUE(Ticket::Parse(generated.Format() + "\n", &parsed).ok());
  EXPECT_EQ(parsed.port, 65535);
  EXPECT_EQ(parsed.secret, generated.secret);
  EXPECT_FALSE(parsed.encrypt);
}

TEST(Ticket, GeneratedSecretsDiffer) {
  Ticket a, b;
  ASSERT_TRUE(Ticket::Generate(1, true, &a).ok());
  ASSERT_TRUE(Ticket::Generate(1, true, &b).ok());
  EXPECT_NE(a.secret, b.secret);
}

TEST(Ticket, UsesOnlyShellSafeCharacters) {
  Ticket ticket;
  ASSERT_TRUE(Ticket::Generate(80, false, &ticket).ok());
  for (char c : ticket.Format()) {
    EXPECT_TRUE(isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '-' || c == '_') << c;
  }
}

TEST(Ticket, RefusesMalformedTicketsWithoutQuotingThem) {
  const std::string secret = "AAgQGCAoMDhASFBYYGhweICIkJigqLC4wMjQ2ODo8Pg";
  for (const std::string& bad : {
           std::string(""),
           "xfer2:4401:" + secret,
           "xfer1:0:" + secret,
           "xfer1:65536:" + secret,
           "xfer1:44x1:" + secret,
           std::string("xfer1:4401"),
           "xfer1:4401:" + secret.substr(1),
           "xfer1:4401:" + secret + "A",
           "xfer1:4401:" + secret.substr(0, 42) + "h",  // non-zero leftover bits
           "xfer1:4401:" + secret.substr(0, 42) + "+",
           "xfer1:4401:" + secret + ":bogus",
       }) {
    Ticket ticket;
    Status status = Ticket::Parse(bad, &ticket);
    EXPECT_EQ(status.code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(status.message().find(secret.substr(0, 20)), std::string::npos) << status.message();
  }
}

}  // namespace
}  // namespace xfer
