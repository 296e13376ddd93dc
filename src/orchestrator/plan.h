// Plan: everything `xfer` was asked to do, as parsed from the command line and config files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host_spec.h"

namespace xfer::orchestrator {

enum class Fanout {
  kChain,     // source -> target 1 -> target 2 -> ...: each receiver forwards what it verified
  kParallel,  // source -> every target at once
};

struct Plan {
  HostPath source;
  std::vector<HostPath> targets;
  std::vector<std::string> ssh_command{"ssh"};
  std::string bin_dir;  // where xfer-send/xfer-recv live on remote hosts; "" for PATH
  Fanout fanout = Fanout::kChain;
  uint16_t port = 0;  // receivers' port; 0: the kernel picks one per receiver
  bool compress = true;
  int level = 0;  // 0: adaptive
  bool encrypt = true;
  bool checksum = false;  // re-read every written file at each target
  bool overwrite = false;
  // Each target restores owners, devices and setuid/setgid bits (xfer-recv --no-same-owner,
  // --no-devices, --no-setuid turn them off).
  bool same_owner = true;
  bool devices = true;
  bool setuid = true;
  bool resume = false;  // continue an interrupted transfer to the same targets
  bool open_firewall = false;
  int threads = 0;
  uint64_t limit_rate = 0;  // wire bytes per second out of the source (xfer-send); 0: no limit
  int64_t timeout_s = 300;
  int64_t idle_timeout_s = 60;
  int64_t stall_timeout_s = 10;  // parallel fan-out: a target taking no data is dropped after it
  bool verbose = false;
  bool json = false;  // JSON-lines events on stdout instead of the terminal display
  // Byte-stream mode (--type mariabackup): when set, the sender sends this command's stdout
  // (xfer-send --exec) instead of reading source.path, and each receiver feeds the stream to
  // recv_exec in its staging directory (xfer-recv --exec). Both are sh-quoted command lines.
  std::string send_exec;
  std::string recv_exec;
};

// How a host is named in messages: its ssh target ("root@db2"), or "localhost".
std::string HostName(const HostPath& host);
// How a source or target is named in messages: "HOST:PATH" as the user wrote it.
std::string TargetLabel(const HostPath& target);

}  // namespace xfer::orchestrator
