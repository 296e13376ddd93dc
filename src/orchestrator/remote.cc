#include "remote.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "process.h"
#include "shell_quote.h"

namespace xfer::orchestrator {

namespace {

// How long an idle shared connection outlives its last command: long enough to carry every
// command of a run, short enough that a killed `xfer` leaves nothing behind for long.
constexpr char kControlPersist[] = "ControlPersist=60";

}  // namespace

Status Hosts::Create(std::vector<std::string> ssh_command, std::string bin_dir,
                     std::unique_ptr<Hosts>* out) {
  if (ssh_command.empty()) return Status(Code::kInvalidArgument, "--ssh: empty command");
  std::unique_ptr<Hosts> hosts(new Hosts());
  hosts->ssh_command_ = std::move(ssh_command);
  hosts->bin_dir_ = std::move(bin_dir);
  // ssh's ControlPath must be short (a unix socket path) and private: /tmp, mode 0700.
  char dir[] = "/tmp/xfer-ssh-XXXXXX";
  if (mkdtemp(dir) == nullptr) return Status::FromErrno(errno, "creating a directory in /tmp");
  hosts->control_dir_ = dir;
  *out = std::move(hosts);
  return Status::Ok();
}

Hosts::~Hosts() {
  for (const std::string& target : ssh_targets_) {
    std::vector<std::string> argv = ssh_command_;
    argv.insert(argv.end(),
                {"-o", "ControlPath=" + control_dir_ + "/%C", "-O", "exit", "--", target});
    std::unique_ptr<cli::Process> stop;
    if (cli::Process::Start(argv, "ssh -O exit " + target, &stop).ok()) {
      stop->CloseStdin();
      stop->Wait(cli::Process::Clock::now() + std::chrono::seconds(10));
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(control_dir_, ignored);
}

std::string Hosts::LocalProgram(const std::string& program) const {
  if (!bin_dir_.empty()) return bin_dir_ + "/" + program;
  // Next to this `xfer` first (a build or install directory), then PATH.
  std::error_code error;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    std::filesystem::path sibling = self.parent_path() / program;
    if (access(sibling.c_str(), X_OK) == 0) return sibling.string();
  }
  return program;
}

std::vector<std::string> Hosts::Command(const HostPath& host, const std::string& program,
                                        const std::vector<std::string>& args) {
  std::string path = host.local         ? LocalProgram(program)
                     : bin_dir_.empty() ? program
                                        : bin_dir_ + "/" + program;
  std::vector<std::string> argv{path};
  argv.insert(argv.end(), args.begin(), args.end());
  return SystemCommand(host, argv);
}

std::vector<std::string> Hosts::SystemCommand(const HostPath& host,
                                              const std::vector<std::string>& argv) {
  if (host.local) return argv;
  ssh_targets_.insert(host.ssh_target);
  std::vector<std::string> ssh = ssh_command_;
  // BatchMode: a password or host-key prompt would hang an unattended run; fail instead.
  // "--" before the host: a host spelled like an option ("-oProxyCommand=...") stays a host.
  ssh.insert(ssh.end(), {"-o", "BatchMode=yes", "-o", "ControlMaster=auto", "-o",
                         "ControlPath=" + control_dir_ + "/%C", "-o", kControlPersist, "--",
                         host.ssh_target, cli::ShellCommand(argv)});
  return ssh;
}

}  // namespace xfer::orchestrator
