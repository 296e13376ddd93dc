// NetnsLan: a private LAN of network namespaces for multi-host tests. One "switch" namespace
// holds a Linux bridge; host namespaces 0..N-1 each reach it through a veth pair, with eth0
// addressed 10.99.0.(i+1)/24 and lo up. Nothing is created in the root namespace: every veth is
// made inside the switch namespace with its peer placed straight into its host.
//
// Needs root. Usage:
//   NetnsLan lan(3);
//   if (!lan.status().ok()) GTEST_SKIP() << lan.status().message();
//   ChildProcess ssh(lan.Exec(0, {"/usr/bin/ssh", ..., "root@" + lan.host_address(1), ...}));
#pragma once

#include <string>
#include <vector>

#include "xfer/status.h"

namespace xfer::testing {

class NetnsLan {
 public:
  // Builds the LAN. On failure status() says why (not root, `ip netns` unusable, a step that
  // failed) and whatever was made is already removed.
  explicit NetnsLan(int host_count);
  // Deletes every namespace of this LAN (with its bridge and veths).
  ~NetnsLan();
  NetnsLan(const NetnsLan&) = delete;
  NetnsLan& operator=(const NetnsLan&) = delete;

  const Status& status() const { return status_; }
  int host_count() const { return static_cast<int>(hosts_.size()); }

  // Host i, 0-based: its namespace name ("xfer-lan-PID-SEQ-hI") and its IPv4 address.
  const std::string& host_namespace(int i) const { return hosts_.at(i); }
  std::string host_address(int i) const;
  // The interface of every host on the LAN, and the prefix length of its address.
  static constexpr const char* kHostInterface = "eth0";
  static constexpr int kPrefixLength = 24;
  const std::string& switch_namespace() const { return switch_; }

  // {"/usr/sbin/ip", "netns", "exec", NAME}: put before an argv to run it in namespace NAME.
  static std::vector<std::string> ExecPrefix(const std::string& netns);
  // ExecPrefix(host_namespace(host)) followed by argv.
  std::vector<std::string> Exec(int host, const std::vector<std::string>& argv) const;

  // Deletes namespaces named "xfer-lan-PID-..." whose process PID no longer exists: what a
  // crashed or killed test run left behind. The constructor calls it.
  static void RemoveLeftovers();

 private:
  Status Build(int host_count);
  void DeleteAll();

  Status status_;
  std::string switch_;
  std::vector<std::string> hosts_;
  std::vector<std::string> created_;  // namespaces that exist and must be deleted
};

}  // namespace xfer::testing
