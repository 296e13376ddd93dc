#include "sshd_server.h"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>

#include "fs_util.h"
#include "netns_lan.h"
#include "run_command.h"
#include "socket.h"

namespace xfer::testing {

namespace {

constexpr char kSshd[] = "/usr/sbin/sshd";
constexpr char kSsh[] = "/usr/bin/ssh";
constexpr char kSshKeygen[] = "/usr/bin/ssh-keygen";
constexpr char kListeningLine[] = "Server listening on ";
constexpr auto kStartTimeout = std::chrono::seconds(10);
// In the root namespace another process may take the free port before sshd binds it.
constexpr int kPortAttempts = 5;

// sshd's stderr (where -e logs) goes to a file, not a pipe: session processes inherit it and
// may outlive the listener, and nobody would drain a pipe after startup.
constexpr char kLaunchScript[] = R"(exec "$0" -D -e -f "$1" </dev/null >/dev/null 2>>"$2")";

Status KeyGen(const std::string& path) {
  return cli::RunCommand(
      {kSshKeygen, "-q", "-t", "ed25519", "-N", "", "-C", "xfer-test", "-f", path});
}

// The log as one line, for error messages.
std::string LogSummary(const std::string& log) {
  std::string summary;
  size_t start = 0;
  while (start < log.size()) {
    size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    if (end > start) summary += (summary.empty() ? "" : "; ") + log.substr(start, end - start);
    start = end + 1;
  }
  return summary.empty() ? "(no log output)" : summary;
}

}  // namespace

SshdServer::SshdServer(const std::string& netns) {
  status_ = Start(netns);
  if (!status_.ok()) sshd_.reset();
}

SshdServer::~SshdServer() = default;

std::vector<std::string> SshdServer::SshCommand() const {
  std::vector<std::string> command{kSsh, "-p", std::to_string(port_), "-i", client_key()};
  for (const char* option :
       {"StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null", "LogLevel=ERROR"}) {
    command.insert(command.end(), {"-o", option});
  }
  return command;
}

Status SshdServer::Start(const std::string& netns) {
  if (geteuid() != 0) {
    return Status(Code::kInvalidArgument,
                  "a test sshd needs root (running as uid " + std::to_string(geteuid()) + ")");
  }
  for (const char* program : {kSshd, kSsh, kSshKeygen}) {
    if (access(program, X_OK) != 0) {
      return Status::FromErrno(errno,
                               std::string(program) + " (install openssh-server, openssh-client)");
    }
  }
  // sshd refuses to start without its privilege separation directory.
  if (mkdir("/run/sshd", 0755) != 0 && errno != EEXIST) {
    return Status::FromErrno(errno, "creating /run/sshd");
  }
  XFER_RETURN_IF_ERROR(KeyGen(dir_.Sub("host_key")));
  XFER_RETURN_IF_ERROR(KeyGen(client_key()));

  if (!netns.empty()) {
    port_ = kNamespacePort;
    WriteConfig("0.0.0.0");
    bool port_taken = false;
    return Launch(netns, &port_taken);
  }
  Status launched;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    // A port the kernel calls free, released again for sshd to bind.
    Socket probe;
    XFER_RETURN_IF_ERROR(ListenTcp("127.0.0.1", 0, &probe, &port_));
    probe = Socket();
    WriteConfig("127.0.0.1");
    bool port_taken = false;
    launched = Launch("", &port_taken);
    if (!port_taken) break;
  }
  return launched;
}

void SshdServer::WriteConfig(const std::string& listen_address) const {
  std::string config;
  config += "Port " + std::to_string(port_) + "\n";
  config += "ListenAddress " + listen_address + "\n";
  config += "HostKey \"" + dir_.Sub("host_key") + "\"\n";
  config += "AuthorizedKeysFile \"" + client_key() + ".pub\"\n";
  config += "PermitRootLogin prohibit-password\n";
  // The keys and this config live in a temp dir whose modes sshd would otherwise refuse.
  config += "StrictModes no\n";
  config += "PasswordAuthentication no\n";
  config += "KbdInteractiveAuthentication no\n";
  config += "UsePAM no\n";
  config += "PidFile none\n";
  // Sessions otherwise get sshd's compiled-in PATH, not the one the test found programs on. The
  // sanitizer options (scripts/sanitize.sh) go along so that xfer-send and xfer-recv started
  // through ssh report where the rest do. sshd keeps only the first SetEnv line: one line for all.
  std::string set_env;
  for (const char* name :
       {"PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"}) {
    if (const char* value = getenv(name)) set_env += " " + std::string(name) + "=\"" + value + "\"";
  }
  if (!set_env.empty()) config += "SetEnv" + set_env + "\n";
  WriteFile(dir_.Sub("sshd_config"), config);
}

Status SshdServer::Launch(const std::string& netns, bool* port_taken) {
  std::string where = netns.empty() ? "on 127.0.0.1:" + std::to_string(port_)
                                    : "in namespace " + netns + " on port " + std::to_string(port_);
  // An empty log to watch; sshd appends to it.
  WriteFile(log_path(), "");
  UniqueFd watch(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (!watch.valid() || inotify_add_watch(watch.get(), log_path().c_str(), IN_MODIFY) < 0) {
    return Status::FromErrno(errno, "watching " + log_path());
  }

  std::vector<std::string> argv;
  if (!netns.empty()) argv = NetnsLan::ExecPrefix(netns);
  argv.insert(argv.end(),
              {"/bin/sh", "-c", kLaunchScript, kSshd, dir_.Sub("sshd_config"), log_path()});
  sshd_ = std::make_unique<ChildProcess>(argv);
  sshd_->CloseStdin();
  UniqueFd exited(static_cast<int>(syscall(SYS_pidfd_open, sshd_->pid(), 0)));
  if (!exited.valid()) return Status::FromErrno(errno, "pidfd_open for sshd");

  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (true) {
    std::string log = ReadFile(log_path());
    if (log.find(kListeningLine) != std::string::npos) return Status::Ok();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Status(Code::kTimeout, "sshd " + where + " did not listen within " +
                                        std::to_string(kStartTimeout.count()) +
                                        "s: " + LogSummary(log));
    }
    pollfd fds[2] = {{watch.get(), POLLIN, 0}, {exited.get(), POLLIN, 0}};
    if (poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      return Status::FromErrno(errno, "waiting for sshd");
    }
    if (fds[1].revents & POLLIN) {
      sshd_->Wait(std::chrono::seconds(5));
      // What `ip netns exec` or sh said before sshd ran is on the pipe, the rest in the log.
      log = sshd_->stderr_text() + ReadFile(log_path());
      *port_taken = log.find("Address already in use") != std::string::npos;
      return Status(Code::kIoError, "sshd " + where + " exited: " + LogSummary(log));
    }
    // Only "the log changed" matters: discard the events and read the log again.
    char events[4096];
    while (read(watch.get(), events, sizeof events) > 0) {
    }
  }
}

}  // namespace xfer::testing
