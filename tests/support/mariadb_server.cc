#include "mariadb_server.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "fs_util.h"
#include "run_command.h"

namespace xfer::testing {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kInstallTimeout = std::chrono::seconds(120);
constexpr auto kStartTimeout = std::chrono::seconds(60);
constexpr auto kStopTimeout = std::chrono::seconds(60);
constexpr auto kQueryTimeout = std::chrono::seconds(60);

// Small enough that two servers and a backup fit beside the rest of the suite.
const std::vector<std::string> kSmallMemory{"--innodb-buffer-pool-size=32M",
                                            "--innodb-log-file-size=8M"};

// A unix datagram socket bound at path, for mariadbd's sd_notify() messages.
Status BindNotifySocket(const std::string& path, UniqueFd* out) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) {
    return Status(Code::kInvalidArgument, "socket path too long: " + path);
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return Status::FromErrno(errno, "creating a datagram socket");
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    return Status::FromErrno(errno, "binding " + path);
  }
  *out = std::move(fd);
  return Status::Ok();
}

// Reads every pending notification; true if one of them said READY=1.
bool ReadyNotified(int fd) {
  bool ready = false;
  char message[4096];
  ssize_t n;
  while ((n = recv(fd, message, sizeof message, 0)) > 0) {
    std::string text(message, static_cast<size_t>(n));
    // Newline-separated assignments: "READY=1\nSTATUS=Taking your SQL requests now...".
    ready = ready || text.rfind("READY=1", 0) == 0 || text.find("\nREADY=1") != std::string::npos;
  }
  return ready;
}

}  // namespace

std::string MariadbServer::ProgramPath(const std::string& name) { return cli::FindProgram(name); }

std::string MariadbServer::MissingPrograms() {
  std::string missing;
  for (const char* program :
       {"mariadb-install-db", "mariadbd", "mariadb", "mariadb-backup", "mbstream"}) {
    if (ProgramPath(program).empty())
      missing += (missing.empty() ? "" : ", ") + std::string(program);
  }
  if (missing.empty()) return "";
  return "not installed: " + missing +
         " (apt-get install mariadb-server mariadb-client mariadb-backup, or "
         "scripts/install-deps.sh)";
}

std::unique_ptr<MariadbServer> MariadbServer::CreateFresh(const std::vector<std::string>& options) {
  std::unique_ptr<MariadbServer> server(new MariadbServer());
  server->datadir_ = server->dir_.Sub("data");
  server->status_ = server->Install();
  if (server->status_.ok()) server->status_ = server->Start(options);
  return server;
}

std::unique_ptr<MariadbServer> MariadbServer::StartOn(const std::string& datadir,
                                                      const std::vector<std::string>& options) {
  std::unique_ptr<MariadbServer> server(new MariadbServer());
  server->datadir_ = datadir;
  server->status_ = server->Start(options);
  return server;
}

MariadbServer::~MariadbServer() { (void)Stop(); }

Status MariadbServer::Install() {
  if (geteuid() != 0) {
    return Status(Code::kInvalidArgument, "a test MariaDB server needs root (running as uid " +
                                              std::to_string(geteuid()) + ")");
  }
  std::vector<std::string> argv{ProgramPath("mariadb-install-db"),
                                "--no-defaults",
                                "--datadir=" + datadir_,
                                "--user=root",
                                "--auth-root-authentication-method=socket",
                                "--skip-test-db"};
  argv.insert(argv.end(), kSmallMemory.begin(), kSmallMemory.end());
  return cli::RunCommand(argv, kInstallTimeout);
}

Status MariadbServer::Start(const std::vector<std::string>& options) {
  std::string notify_path = dir_.Sub("notify");
  UniqueFd notify;
  XFER_RETURN_IF_ERROR(BindNotifySocket(notify_path, &notify));
  // env(1) sets NOTIFY_SOCKET for mariadbd alone and execs it: the same process.
  std::vector<std::string> argv{"/usr/bin/env",
                                "NOTIFY_SOCKET=" + notify_path,
                                ProgramPath("mariadbd"),
                                "--no-defaults",
                                "--datadir=" + datadir_,
                                "--socket=" + socket_path(),
                                "--pid-file=" + dir_.Sub("mysqld.pid"),
                                "--log-error=" + error_log_path(),
                                "--general-log-file=" + general_log_path(),
                                "--skip-networking",
                                "--user=root"};
  argv.insert(argv.end(), kSmallMemory.begin(), kSmallMemory.end());
  argv.insert(argv.end(), options.begin(), options.end());
  mariadbd_ = std::make_unique<ChildProcess>(argv);
  mariadbd_->CloseStdin();
  UniqueFd exited(static_cast<int>(syscall(SYS_pidfd_open, mariadbd_->pid(), 0)));
  if (!exited.valid()) return Status::FromErrno(errno, "pidfd_open for mariadbd");

  auto deadline = Clock::now() + kStartTimeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      mariadbd_->Kill(SIGKILL);
      mariadbd_->Wait(std::chrono::seconds(30));
      mariadbd_.reset();
      return Status(Code::kTimeout, "mariadbd on " + datadir_ + " was not ready within " +
                                        std::to_string(kStartTimeout.count()) +
                                        " s: " + ErrorLogTail());
    }
    pollfd fds[2] = {{notify.get(), POLLIN, 0}, {exited.get(), POLLIN, 0}};
    if (poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) {
      return Status::FromErrno(errno, "waiting for mariadbd");
    }
    if ((fds[0].revents & POLLIN) && ReadyNotified(notify.get())) return Status::Ok();
    if (fds[1].revents & POLLIN) {
      int code = mariadbd_->Wait(std::chrono::seconds(10));
      std::string early = mariadbd_->stderr_text();  // what it said before opening its log
      mariadbd_.reset();
      return Status(Code::kIoError, "mariadbd on " + datadir_ + " exited with status " +
                                        std::to_string(code) + ": " + early + ErrorLogTail());
    }
  }
}

Status MariadbServer::Query(const std::string& sql, std::string* out) const {
  std::vector<std::string> argv = ClientCommand();
  argv.insert(argv.end(), {"--skip-column-names", "--execute=" + sql});
  Status status = cli::RunCommand(argv, kQueryTimeout, out);
  if (out != nullptr && !out->empty() && out->back() == '\n') out->pop_back();
  return status;
}

std::vector<std::string> MariadbServer::ClientCommand() const {
  return {ProgramPath("mariadb"), "--no-defaults", "--socket=" + socket_path(), "--user=root",
          "--batch"};
}

Status MariadbServer::Stop() {
  if (!mariadbd_) return Status::Ok();
  // The SHUTDOWN statement rather than `mariadb-admin shutdown`, which then polls for the pid
  // file to go, a second at a time: the exit is what the pidfd tells below.
  Status asked = Query("SHUTDOWN");
  int code = mariadbd_->Wait(kStopTimeout);
  Status status;
  if (code < 0) {
    mariadbd_->Kill(SIGKILL);
    mariadbd_->Wait(std::chrono::seconds(30));
    status = Status(Code::kTimeout, "mariadbd on " + datadir_ + " did not stop within " +
                                        std::to_string(kStopTimeout.count()) + " s (" +
                                        (asked.ok() ? "shutdown asked" : asked.message()) +
                                        "); killed it");
  } else if (code != 0) {
    status = Status(Code::kIoError, "mariadbd on " + datadir_ + " exited with status " +
                                        std::to_string(code) + ": " + ErrorLogTail());
  }
  mariadbd_.reset();
  return status;
}

std::string MariadbServer::ErrorLogTail() const {
  std::string log = ReadFile(error_log_path());
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < log.size()) {
    size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    if (end > start) lines.push_back(log.substr(start, end - start));
    start = end + 1;
  }
  std::string tail;
  for (size_t i = lines.size() > 5 ? lines.size() - 5 : 0; i < lines.size(); ++i) {
    tail += (tail.empty() ? "" : "; ") + lines[i];
  }
  return tail.empty() ? "(nothing in " + error_log_path() + ")" : tail;
}

}  // namespace xfer::testing
