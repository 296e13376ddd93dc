#include "xfer/report.h"

#include <gtest/gtest.h>

namespace xfer {
namespace {

TEST(JsonString, EscapesQuotesBackslashesAndEveryNonPrintableByte) {
  EXPECT_EQ(JsonString("plain name"), "\"plain name\"");
  EXPECT_EQ(JsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonString("new\nline\x01\xff"), "\"new\\u000aline\\u0001\\u00ff\"");
}

TEST(Report, ListsPeersOnlyWhenThereAreAny) {
  Report report;
  EXPECT_EQ(report.ToJson().find("peers"), std::string::npos);
  report.peers.push_back({"db2", true, ""});
  report.peers.push_back({"db3", false, "connection reset"});
  std::string json = report.ToJson();
  EXPECT_NE(json.find("\"peers\":[{\"host\":\"db2\",\"ok\":true},"
                      "{\"host\":\"db3\",\"ok\":false,\"error\":\"connection reset\"}]}"),
            std::string::npos)
      << json;
}

}  // namespace
}  // namespace xfer
