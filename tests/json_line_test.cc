#include "json_line.h"

#include <gtest/gtest.h>

#include "preflight.h"
#include "xfer/report.h"

namespace xfer::orchestrator {
namespace {

TEST(JsonLine, ReadsWhatTheProgramsPrint) {
  JsonLine line;
  ASSERT_TRUE(JsonLine::Parse("{\"preflight\":\"ok\",\"protocol\":1,\"bytes\":1331240960,"
                              "\"ratio\":2.5,\"ok\":true,\"names\":[\"a\",\"b c\"],"
                              "\"peers\":[{\"host\":\"db2\",\"ok\":false}],\"none\":null}",
                              &line)
                  .ok());
  EXPECT_EQ(line.String("preflight"), "ok");
  EXPECT_EQ(line.Count("protocol"), 1u);
  EXPECT_EQ(line.Count("bytes"), 1331240960u);
  EXPECT_DOUBLE_EQ(line.Number("ratio"), 2.5);
  EXPECT_TRUE(line.Bool("ok"));
  EXPECT_EQ(line.Strings("names"), (std::vector<std::string>{"a", "b c"}));
  EXPECT_TRUE(line.Has("peers")) << "nested values are skipped, not refused";
  EXPECT_TRUE(line.Has("none"));
  EXPECT_FALSE(line.Has("missing"));
  EXPECT_EQ(line.Count("missing"), 0u);
}

TEST(JsonLine, NamesWithAnyBytesSurviveJsonString) {
  std::string name = "quote\" back\\slash\nnewline \x01\xff";
  JsonLine line;
  ASSERT_TRUE(JsonLine::Parse("{\"name\":" + JsonString(name) + "}", &line).ok());
  EXPECT_EQ(line.String("name"), name);
}

TEST(JsonLine, RefusesWhatIsNotOneObject) {
  JsonLine line;
  for (const char* bad : {"", "xfer1:4000:secret", "{\"a\":1", "{\"a\":1} trailing", "[1]",
                          "{\"a\":\"\\u1234\"}", "{\"a\":tru}", "{a:1}"}) {
    EXPECT_FALSE(JsonLine::Parse(bad, &line).ok()) << bad;
  }
}

TEST(TopNameOf, IsTheLastComponentAndRefusesDots) {
  std::string name;
  ASSERT_TRUE(TopNameOf("/srv/mysql/", &name).ok());
  EXPECT_EQ(name, "mysql");
  ASSERT_TRUE(TopNameOf("file.tar", &name).ok());
  EXPECT_EQ(name, "file.tar");
  for (const char* bad : {"/", ".", "/srv/..", "/srv/."}) {
    Status status = TopNameOf(bad, &name);
    EXPECT_FALSE(status.ok()) << bad;
    EXPECT_NE(status.message().find("must end in a name"), std::string::npos);
  }
}

}  // namespace
}  // namespace xfer::orchestrator
