// SshdServer: a real OpenSSH sshd for tests, with its own host key and one authorized client key
// for root, in a temporary directory. In a network namespace it listens on every address at
// kNamespacePort (nothing else listens there); in the root namespace on 127.0.0.1 at a free
// port. Remote commands get the test's PATH, so programs found here are found there.
//
// Needs root. Usage:
//   SshdServer sshd(lan.host_namespace(1));
//   if (!sshd.status().ok()) GTEST_SKIP() << sshd.status().message();
//   std::vector<std::string> argv = sshd.SshCommand();
//   argv.insert(argv.end(), {"root@" + lan.host_address(1), "echo hi"});
//   ChildProcess ssh(lan.Exec(0, argv));
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "child_process.h"
#include "temp_dir.h"
#include "xfer/status.h"

namespace xfer::testing {

class SshdServer {
 public:
  static constexpr uint16_t kNamespacePort = 2222;

  // netns: the namespace to run in, "" for the root namespace. Returns once sshd accepts
  // connections, or with status() saying why it could not start.
  explicit SshdServer(const std::string& netns = "");
  // Stops sshd (sessions still open end with their clients).
  ~SshdServer();
  SshdServer(const SshdServer&) = delete;
  SshdServer& operator=(const SshdServer&) = delete;

  const Status& status() const { return status_; }
  uint16_t port() const { return port_; }
  // The private key root's authorized_keys accepts.
  std::string client_key() const { return dir_.Sub("client_key"); }
  // sshd's own log (-e output), for failure messages.
  std::string log_path() const { return dir_.Sub("sshd.log"); }

  // The client command, ready for "USER@ADDRESS COMMAND...": ssh -p PORT -i KEY
  // -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
  // (ssh by absolute path, since ChildProcess does not search PATH).
  std::vector<std::string> SshCommand() const;

 private:
  Status Start(const std::string& netns);
  void WriteConfig(const std::string& listen_address) const;
  // Starts sshd and waits until its log says it listens. *port_taken tells a failure because
  // another process bound port_ first (worth another port) from any other.
  Status Launch(const std::string& netns, bool* port_taken);

  TempDir dir_;
  Status status_;
  uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> sshd_;
};

}  // namespace xfer::testing
