// The namespace LAN fixture: what each host sees, and that nothing outlives the fixture.
#include "netns_lan.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "child_process.h"
#include "run_command.h"

namespace xfer::testing {
namespace {

bool NamespaceExists(const std::string& name) {
  return std::filesystem::exists("/run/netns/" + name);
}

// What `ip ARGS` prints inside host i of lan.
std::string IpOutput(const NetnsLan& lan, int host, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/sbin/ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess ip(lan.Exec(host, argv));
  EXPECT_EQ(ip.Wait(std::chrono::seconds(30)), 0) << ip.stderr_text();
  return ip.stdout_text();
}

TEST(NetnsLanTest, EachHostHasLoopbackUpAndItsOwnAddress) {
  NetnsLan lan(3);
  if (!lan.status().ok()) GTEST_SKIP() << lan.status().message();
  ASSERT_EQ(lan.host_count(), 3);
  for (int i = 0; i < lan.host_count(); ++i) {
    SCOPED_TRACE(lan.host_namespace(i));
    EXPECT_EQ(lan.host_address(i), "10.99.0." + std::to_string(i + 1));
    std::string addresses = IpOutput(lan, i, {"-o", "-4", "addr", "show"});
    EXPECT_NE(addresses.find("lo    inet 127.0.0.1/8"), std::string::npos) << addresses;
    EXPECT_NE(addresses.find("eth0    inet " + lan.host_address(i) + "/24"), std::string::npos)
        << addresses;
    EXPECT_NE(IpOutput(lan, i, {"link", "show", "lo"}).find("UP"), std::string::npos);
    EXPECT_NE(IpOutput(lan, i, {"link", "show", "eth0"}).find("state UP"), std::string::npos);
  }
}

TEST(NetnsLanTest, HostsSeeOnlyTheirOwnInterfaces) {
  NetnsLan lan(2);
  if (!lan.status().ok()) GTEST_SKIP() << lan.status().message();
  std::string links = IpOutput(lan, 1, {"-o", "link", "show"});
  EXPECT_EQ(std::count(links.begin(), links.end(), '\n'), 2) << links;  // lo and eth0
}

TEST(NetnsLanTest, NamesAreUniqueAndDeletedWithTheFixture) {
  std::vector<std::string> names;
  {
    NetnsLan first(1);
    if (!first.status().ok()) GTEST_SKIP() << first.status().message();
    NetnsLan second(1);
    ASSERT_TRUE(second.status().ok()) << second.status().message();
    names = {first.switch_namespace(), first.host_namespace(0), second.switch_namespace(),
             second.host_namespace(0)};
    EXPECT_NE(first.host_namespace(0), second.host_namespace(0));
    EXPECT_NE(first.host_namespace(0).find(std::to_string(getpid())), std::string::npos);
    for (const std::string& name : names) EXPECT_TRUE(NamespaceExists(name)) << name;
  }
  for (const std::string& name : names) EXPECT_FALSE(NamespaceExists(name)) << name;
}

TEST(NetnsLanTest, ReportsWhyItCouldNotBeBuilt) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces";
  NetnsLan lan(255);
  EXPECT_EQ(lan.status().message(), "a namespace LAN holds 1 to 254 hosts, not 255");
}

TEST(NetnsLanTest, RemoveLeftoversDeletesOnlyNamespacesOfDeadProcesses) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces";
  // A pid that surely belongs to no process: one we started and reaped.
  ChildProcess exited({"/bin/true"});
  ASSERT_EQ(exited.Wait(std::chrono::seconds(30)), 0);
  std::string dead = "xfer-lan-" + std::to_string(exited.pid()) + "-0-h0";
  std::string alive = "xfer-lan-" + std::to_string(getpid()) + "-999999-h0";
  for (const std::string& name : {dead, alive}) {
    Status added = cli::RunCommand({"/usr/sbin/ip", "netns", "add", name});
    if (!added.ok()) GTEST_SKIP() << added.message();
  }

  NetnsLan::RemoveLeftovers();

  EXPECT_FALSE(NamespaceExists(dead));
  EXPECT_TRUE(NamespaceExists(alive));
  for (const std::string& name : {dead, alive}) {
    if (NamespaceExists(name)) {
      EXPECT_TRUE(cli::RunCommand({"/usr/sbin/ip", "netns", "del", name}).ok());
    }
  }
}

}  // namespace
}  // namespace xfer::testing
