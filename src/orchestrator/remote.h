// Hosts: how `xfer` runs xfer-send and xfer-recv on a host: directly for `localhost`, otherwise
// through the system ssh client in batch mode, one multiplexed connection per host for every
// command sent to it. Remote command lines are quoted word by word, so a path is only ever data.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "host_spec.h"
#include "xfer/status.h"

namespace xfer::orchestrator {

class Hosts {
 public:
  // ssh_command: the words of --ssh ("ssh", or e.g. "ssh -p 2222 -i KEY"). bin_dir: where the
  // programs live on remote hosts ("" for the remote PATH).
  static Status Create(std::vector<std::string> ssh_command, std::string bin_dir,
                       std::unique_ptr<Hosts>* out);
  // Closes the shared ssh connections and removes their sockets.
  ~Hosts();
  Hosts(const Hosts&) = delete;
  Hosts& operator=(const Hosts&) = delete;

  // The argv that runs `program args...` on `host`.
  std::vector<std::string> Command(const HostPath& host, const std::string& program,
                                   const std::vector<std::string>& args);
  // The argv that runs argv on `host` as given, not looked for in --bin-dir or next to `xfer`
  // (another tool: sh, mariadb-backup).
  std::vector<std::string> SystemCommand(const HostPath& host,
                                         const std::vector<std::string>& argv);

 private:
  Hosts() = default;
  std::string LocalProgram(const std::string& program) const;

  std::vector<std::string> ssh_command_;
  std::string bin_dir_;
  std::string control_dir_;            // private directory for the ControlPath sockets
  std::set<std::string> ssh_targets_;  // connections to close at the end
};

}  // namespace xfer::orchestrator
