#include "netns_lan.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "run_command.h"

namespace xfer::testing {

namespace {

constexpr char kIp[] = "/usr/sbin/ip";
constexpr char kNamePrefix[] = "xfer-lan-";
constexpr char kBridge[] = "br0";

Status Ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv{kIp};
  argv.insert(argv.end(), args.begin(), args.end());
  return cli::RunCommand(argv);
}

}  // namespace

NetnsLan::NetnsLan(int host_count) {
  RemoveLeftovers();
  status_ = Build(host_count);
  if (!status_.ok()) DeleteAll();
}

NetnsLan::~NetnsLan() { DeleteAll(); }

std::string NetnsLan::host_address(int i) const { return "10.99.0." + std::to_string(i + 1); }

std::vector<std::string> NetnsLan::ExecPrefix(const std::string& netns) {
  return {kIp, "netns", "exec", netns};
}

std::vector<std::string> NetnsLan::Exec(int host, const std::vector<std::string>& argv) const {
  std::vector<std::string> full = ExecPrefix(host_namespace(host));
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

Status NetnsLan::Build(int host_count) {
  if (geteuid() != 0) {
    return Status(Code::kInvalidArgument,
                  "a namespace LAN needs root (running as uid " + std::to_string(geteuid()) + ")");
  }
  if (access(kIp, X_OK) != 0) {
    return Status::FromErrno(errno, std::string(kIp) + " (install iproute2)");
  }
  // .1 to .254 on one /24.
  if (host_count < 1 || host_count > 254) {
    return Status(Code::kInvalidArgument,
                  "a namespace LAN holds 1 to 254 hosts, not " + std::to_string(host_count));
  }
  // The pid keeps parallel test processes apart; the sequence, fixtures within one process.
  static std::atomic<int> sequence{0};
  std::string prefix =
      kNamePrefix + std::to_string(getpid()) + "-" + std::to_string(sequence.fetch_add(1)) + "-";

  switch_ = prefix + "sw";
  XFER_RETURN_IF_ERROR(Ip({"netns", "add", switch_}));
  created_.push_back(switch_);
  XFER_RETURN_IF_ERROR(Ip({"-n", switch_, "link", "add", kBridge, "type", "bridge"}));
  XFER_RETURN_IF_ERROR(Ip({"-n", switch_, "link", "set", kBridge, "up"}));

  for (int i = 0; i < host_count; ++i) {
    std::string host = prefix + "h" + std::to_string(i);
    std::string port = "veth" + std::to_string(i);
    XFER_RETURN_IF_ERROR(Ip({"netns", "add", host}));
    created_.push_back(host);
    hosts_.push_back(host);
    XFER_RETURN_IF_ERROR(Ip({"-n", host, "link", "set", "lo", "up"}));
    XFER_RETURN_IF_ERROR(Ip({"-n", switch_, "link", "add", port, "type", "veth", "peer", "name",
                             kHostInterface, "netns", host}));
    XFER_RETURN_IF_ERROR(Ip({"-n", switch_, "link", "set", port, "master", kBridge, "up"}));
    XFER_RETURN_IF_ERROR(
        Ip({"-n", host, "addr", "add", host_address(i) + "/" + std::to_string(kPrefixLength), "dev",
            kHostInterface}));
    XFER_RETURN_IF_ERROR(Ip({"-n", host, "link", "set", kHostInterface, "up"}));
  }
  return Status::Ok();
}

void NetnsLan::DeleteAll() {
  // Hosts first: deleting a host namespace removes its veth pair from the switch too.
  for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
    Status deleted = Ip({"netns", "del", *it});
    if (!deleted.ok()) ADD_FAILURE() << deleted.message();
  }
  created_.clear();
}

void NetnsLan::RemoveLeftovers() {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", error)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(kNamePrefix, 0) != 0) continue;
    pid_t owner = static_cast<pid_t>(std::atoi(name.c_str() + sizeof kNamePrefix - 1));
    if (owner <= 0 || kill(owner, 0) == 0 || errno != ESRCH) continue;
    // Another test process may be removing the same leftover: losing that race is fine.
    (void)Ip({"netns", "del", name});
  }
}

}  // namespace xfer::testing
