// HOST:PATH operands of `xfer`: which host, reached how, and which path on it.
//
// HOST is NAME, USER@NAME, an IPv4 address, [IPv6] or USER@[IPv6]; everything after the first
// ':' (after "]:" for IPv6) is the path, which may itself hold ':', blanks and quotes. A bare
// `localhost` is this machine, with no ssh; USER@localhost still logs in as USER through ssh.
#pragma once

#include <string>
#include <string_view>

#include "xfer/status.h"

namespace xfer::orchestrator {

struct HostPath {
  std::string ssh_target;  // the host argument for ssh: "root@db1", "db1", "fe80::1"; "" if local
  std::string host;        // what other hosts connect to: "db1", "10.0.0.5", "fe80::1"
  std::string path;        // never empty
  bool local = false;      // run here, without ssh
};

// Fails with one line naming the operand: "'db1' has no ':PATH'", "unclosed '[' in '[::1'".
Status ParseHostPath(std::string_view operand, HostPath* out);

}  // namespace xfer::orchestrator
