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

TEST(KeptVerdict, SaysWhatWasKeptWhereAndHowToContinue) {
  EXPECT_EQ(KeptVerdict(Status(Code::kCancelled, "cancelled"), 755300000, "db2:/srv/restore"),
            "interrupted: 755.3 MB kept on db2:/srv/restore; run the same command again to "
            "continue");
  EXPECT_EQ(KeptVerdict(Status(Code::kIoError, "disk full"), 12000000, "db3:/srv/restore"),
            "failed: disk full; 12.0 MB kept on db3:/srv/restore; run the same command again to "
            "continue");
}

TEST(Report, NamesWhatItDiscardedOnlyWhenItDiscardedSomething) {
  Report report;
  EXPECT_EQ(report.ToJson().find("discarded"), std::string::npos);
  report.discarded_files = 12;
  report.discarded_bytes = 755300000;
  EXPECT_NE(report.ToJson().find("\"discarded_files\":12,\"discarded_bytes\":755300000"),
            std::string::npos)
      << report.ToJson();
}

}  // namespace
}  // namespace xfer
