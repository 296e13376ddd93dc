// HOST:PATH operands: every host form, paths that hold anything, and one-line refusals.
#include "host_spec.h"

#include <gtest/gtest.h>

namespace xfer::orchestrator {
namespace {

struct Parsed {
  std::string operand;
  std::string ssh_target;
  std::string host;
  std::string path;
  bool local;
};

TEST(HostSpecTest, ParsesEveryHostForm) {
  const std::vector<Parsed> cases = {
      {"db1:/srv/data", "db1", "db1", "/srv/data", false},
      {"root@db1:/srv/data", "root@db1", "db1", "/srv/data", false},
      {"backup.example.com:relative/dir", "backup.example.com", "backup.example.com",
       "relative/dir", false},
      {"10.99.0.2:/tmp/x", "10.99.0.2", "10.99.0.2", "/tmp/x", false},
      {"[fe80::1]:/srv", "fe80::1", "fe80::1", "/srv", false},
      {"[fe80::1%eth0]:/srv", "fe80::1%eth0", "fe80::1%eth0", "/srv", false},
      {"admin@[2001:db8::7]:/srv", "admin@2001:db8::7", "2001:db8::7", "/srv", false},
      {"[::ffff:10.0.0.1]:/a", "::ffff:10.0.0.1", "::ffff:10.0.0.1", "/a", false},
      {"john@corp.example@db1:/x", "john@corp.example@db1", "db1", "/x", false},
      {"localhost:/srv/data", "", "localhost", "/srv/data", true},
      {"root@localhost:/srv/data", "root@localhost", "localhost", "/srv/data", false},
      {"localhost.localdomain:/x", "localhost.localdomain", "localhost.localdomain", "/x", false},
  };
  for (const Parsed& c : cases) {
    HostPath parsed;
    Status status = ParseHostPath(c.operand, &parsed);
    ASSERT_TRUE(status.ok()) << c.operand << ": " << status.message();
    EXPECT_EQ(parsed.ssh_target, c.ssh_target) << c.operand;
    EXPECT_EQ(parsed.host, c.host) << c.operand;
    EXPECT_EQ(parsed.path, c.path) << c.operand;
    EXPECT_EQ(parsed.local, c.local) << c.operand;
  }
}

TEST(HostSpecTest, PathIsEverythingAfterTheHostColon) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"db1:/srv/a:b:c", "/srv/a:b:c"},
      {"db1:/srv/my data/it's \"here\"", "/srv/my data/it's \"here\""},
      {"db1:/srv/[1]", "/srv/[1]"},
      {"[::1]:/srv/x:[y]", "/srv/x:[y]"},
      {"db1::", ":"},
      {"db1:$(id)", "$(id)"},
  };
  for (const auto& [operand, path] : cases) {
    HostPath parsed;
    ASSERT_TRUE(ParseHostPath(operand, &parsed).ok()) << operand;
    EXPECT_EQ(parsed.path, path) << operand;
  }
}

TEST(HostSpecTest, RefusesMalformedOperandsWithOneLineNamingThem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"db1", "'db1' has no ':PATH'"},
      {"/srv/data", "'/srv/data' has no ':PATH'"},
      {"db1:", "'db1:' has an empty PATH"},
      {"[::1]:", "'[::1]:' has an empty PATH"},
      {"[::1", "unclosed '[' in '[::1'"},
      {"[::1]", "'[::1]' has no ':PATH'"},
      {"[::1]x:/a", "expected ':' after ']' in '[::1]x:/a'"},
      {"root[::1]:/a", "expected USER@ before '[' in 'root[::1]:/a'"},
      {"[db1]:/a", "'db1' in '[db1]:/a' is not an IPv6 address"},
      {"[fe80::1%]:/a", "'fe80::1%' in '[fe80::1%]:/a' is not an IPv6 address"},
      {":/a", "no host before ':' in ':/a'"},
      {"root@:/a", "no host before ':' in 'root@:/a'"},
      {"@db1:/a", "'' in '@db1:/a' is not a user name"},
      {"-oProxyCommand=x:/a", "'-oProxyCommand=x' in '-oProxyCommand=x:/a' is not a host name"},
      {"-l@db1:/a", "'-l' in '-l@db1:/a' is not a user name"},
      {"db 1:/a", "'db 1' in 'db 1:/a' is not a host name"},
      {"a b@db1:/a", "'a b' in 'a b@db1:/a' is not a user name"},
  };
  for (const auto& [operand, message] : cases) {
    HostPath parsed;
    Status status = ParseHostPath(operand, &parsed);
    EXPECT_EQ(status.code(), Code::kInvalidArgument) << operand;
    EXPECT_EQ(status.message(), message) << operand;
  }
}

}  // namespace
}  // namespace xfer::orchestrator
