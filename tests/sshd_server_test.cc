// The test sshd: reachable from another host of a namespace LAN and on loopback, with the key
// it generated, and giving remote commands the test's PATH.
#include "sshd_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "child_process.h"
#include "netns_lan.h"
#include "run_command.h"
#include "temp_dir.h"

namespace xfer::testing {
namespace {

constexpr auto kSshTimeout = std::chrono::seconds(60);

std::vector<std::string> SshArgv(const SshdServer& sshd, const std::string& target,
                                 const std::string& command) {
  std::vector<std::string> argv = sshd.SshCommand();
  argv.insert(argv.end(), {target, command});
  return argv;
}

TEST(SshdServerTest, RunsACommandForAnotherHostOfTheLan) {
  NetnsLan lan(2);
  if (!lan.status().ok()) GTEST_SKIP() << lan.status().message();
  SshdServer sshd(lan.host_namespace(1));
  ASSERT_TRUE(sshd.status().ok()) << sshd.status().message();
  EXPECT_EQ(sshd.port(), SshdServer::kNamespacePort);

  ChildProcess ssh(lan.Exec(0, SshArgv(sshd, "root@" + lan.host_address(1), "echo hi")));
  ASSERT_EQ(ssh.Wait(kSshTimeout), 0) << ssh.stderr_text();
  EXPECT_EQ(ssh.stdout_text(), "hi\n");
}

TEST(SshdServerTest, ServesOnlyTheHostItRunsOn) {
  NetnsLan lan(2);
  if (!lan.status().ok()) GTEST_SKIP() << lan.status().message();
  SshdServer sshd(lan.host_namespace(1));
  ASSERT_TRUE(sshd.status().ok()) << sshd.status().message();

  // Host 0 has nothing listening on the port: a connection there is refused, not answered.
  ChildProcess ssh(lan.Exec(0, SshArgv(sshd, "root@" + lan.host_address(0), "echo hi")));
  EXPECT_EQ(ssh.Wait(kSshTimeout), 255);
  EXPECT_NE(ssh.stderr_text().find("Connection refused"), std::string::npos) << ssh.stderr_text();
}

TEST(SshdServerTest, SaysInOneLineWhyItCouldNotStart) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to run sshd";
  SshdServer sshd("xfer-lan-no-such-namespace");
  ASSERT_FALSE(sshd.status().ok());
  const std::string& message = sshd.status().message();
  EXPECT_NE(message.find("sshd in namespace xfer-lan-no-such-namespace on port 2222 exited: "),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("Cannot open network namespace"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(SshdServerTest, RunsACommandOnLoopbackInTheRootNamespace) {
  SshdServer sshd;
  if (!sshd.status().ok()) GTEST_SKIP() << sshd.status().message();
  EXPECT_NE(sshd.port(), 0);
  EXPECT_NE(sshd.port(), 22);

  ChildProcess ssh(SshArgv(sshd, "root@127.0.0.1", "echo hi"));
  ASSERT_EQ(ssh.Wait(kSshTimeout), 0) << ssh.stderr_text();
  EXPECT_EQ(ssh.stdout_text(), "hi\n");
}

TEST(SshdServerTest, TwoServersInTheRootNamespaceGetTheirOwnPorts) {
  SshdServer first;
  if (!first.status().ok()) GTEST_SKIP() << first.status().message();
  SshdServer second;
  ASSERT_TRUE(second.status().ok()) << second.status().message();
  EXPECT_NE(first.port(), second.port());
}

std::vector<std::string> PathDirs(const std::string& path) {
  std::vector<std::string> dirs;
  size_t start = 0;
  while (start <= path.size()) {
    size_t colon = std::min(path.find(':', start), path.size());
    dirs.push_back(path.substr(start, colon - start));
    start = colon + 1;
  }
  return dirs;
}

TEST(SshdServerTest, RemoteCommandsSeeTheTestsPath) {
  // A directory no default PATH holds, so the test fails unless sshd passes the PATH on.
  TempDir bin;
  const char* inherited = getenv("PATH");
  std::string original = inherited ? inherited : "";
  std::string path = original + ":" + bin.path();
  ASSERT_EQ(setenv("PATH", path.c_str(), 1), 0);
  SshdServer sshd;
  ASSERT_EQ(setenv("PATH", original.c_str(), 1), 0);
  if (!sshd.status().ok()) GTEST_SKIP() << sshd.status().message();

  ChildProcess ssh(SshArgv(sshd, "root@127.0.0.1", "printf %s \"$PATH\""));
  ASSERT_EQ(ssh.Wait(kSshTimeout), 0) << ssh.stderr_text();
  // Root's shell startup files may add (or reorder) directories of their own.
  std::vector<std::string> remote = PathDirs(ssh.stdout_text());
  for (const std::string& dir : PathDirs(path)) {
    EXPECT_NE(std::find(remote.begin(), remote.end(), dir), remote.end())
        << "remote PATH " << ssh.stdout_text() << " lacks " << dir;
  }
}

TEST(SshdServerTest, RefusesAKeyItDidNotAuthorize) {
  SshdServer sshd;
  if (!sshd.status().ok()) GTEST_SKIP() << sshd.status().message();
  TempDir dir;
  std::string stranger = dir.Sub("stranger_key");
  ASSERT_TRUE(
      cli::RunCommand({"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", stranger})
          .ok());
  std::vector<std::string> argv = SshArgv(sshd, "root@127.0.0.1", "echo hi");
  for (std::string& word : argv) {
    if (word == sshd.client_key()) word = stranger;
  }
  argv.insert(argv.begin() + 1, {"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"});

  ChildProcess ssh(argv);
  EXPECT_EQ(ssh.Wait(kSshTimeout), 255);
  EXPECT_NE(ssh.stderr_text().find("Permission denied"), std::string::npos) << ssh.stderr_text();
  EXPECT_EQ(ssh.stdout_text(), "");
}

}  // namespace
}  // namespace xfer::testing
