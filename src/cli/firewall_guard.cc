#include "firewall_guard.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string_view>

#include "firewall.h"

namespace xfer::cli {

namespace {

// The guard's nft and iptables commands each give up after 10 s; this bounds a whole answer
// (a few of them), and a guard that does not answer by then is left to finish on its own.
constexpr std::chrono::seconds kAnswerTimeout{120};
// The descriptor the guard keeps for its socket (0 to 2 are stdin, stdout and stderr).
constexpr int kGuardSocket = 3;

// Requests and answers are lines: "open PORT PEER", "close"; "CODE MESSAGE" (CODE 0: ok).
bool SendLine(int fd, std::string line) {
  line += '\n';
  std::string_view left = line;
  while (!left.empty()) {
    ssize_t n = send(fd, left.data(), left.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    left.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads up to a newline into *line, one byte at a time: the lines are short and rare, and
// nothing after a line may be taken from the socket. False at the end of the socket, on an
// error, or when `deadline_ms` (-1: none) passes.
bool ReceiveLine(int fd, int deadline_ms, std::string* line) {
  line->clear();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(deadline_ms);
  while (true) {
    int wait_ms = -1;
    if (deadline_ms >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      wait_ms = static_cast<int>(std::max<int64_t>(left.count(), 0));
    }
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    char c;
    ssize_t n = recv(fd, &c, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (c == '\n') return true;
    *line += c;
  }
}

std::string EncodeStatus(const Status& status) {
  std::string message = status.message();
  std::replace(message.begin(), message.end(), '\n', ' ');
  return std::to_string(static_cast<int>(status.code())) + " " + message;
}

Status DecodeStatus(const std::string& line) {
  size_t space = line.find(' ');
  int code = std::atoi(line.substr(0, space).c_str());
  if (code == 0) return Status::Ok();
  return Status(static_cast<Code>(code), space == std::string::npos ? "" : line.substr(space + 1));
}

// The guard's life, in the child: serve requests until "close" or the end of the socket, then
// remove the rules and exit.
[[noreturn]] void RunGuard(int socket, pid_t owner, const LogCallback& log) {
  setsid();
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) signal(sig, SIG_IGN);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  dup2(null, STDIN_FILENO);
  dup2(null, STDOUT_FILENO);
  if (socket != kGuardSocket) dup2(socket, kGuardSocket);
  // The rest is xfer-recv's, above all its end of the socket, whose closing tells us it is gone.
  close_range(kGuardSocket + 1, ~0U, 0);
  fcntl(kGuardSocket, F_SETFD, FD_CLOEXEC);  // not for nft and iptables

  FirewallOpening opening(log, owner);
  std::string request;
  while (ReceiveLine(kGuardSocket, -1, &request) && request != "close") {
    Status status(Code::kInvalidArgument, "the firewall guard got an unknown request");
    if (request.rfind("open ", 0) == 0) {
      size_t space = request.find(' ', 5);
      int port = std::atoi(request.substr(5, space - 5).c_str());
      std::string peer = space == std::string::npos ? "" : request.substr(space + 1);
      status = opening.Open(peer, static_cast<uint16_t>(port));
    }
    SendLine(kGuardSocket, EncodeStatus(status));
  }
  Status closed = opening.Close();
  if (!SendLine(kGuardSocket, EncodeStatus(closed)) && !closed.ok() && log) {
    log(LogLevel::kWarning, "firewall: " + closed.message());  // no one else will say it
  }
  _exit(closed.ok() ? 0 : 1);
}

}  // namespace

FirewallGuard::FirewallGuard(pid_t pid, int socket, LogCallback log)
    : pid_(pid), socket_(socket), log_(std::move(log)) {}

Status FirewallGuard::Start(LogCallback log, std::unique_ptr<FirewallGuard>* out) {
  int sockets[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) {
    return Status::FromErrno(errno, "starting the firewall guard");
  }
  pid_t owner = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(sockets[0]);
    close(sockets[1]);
    return Status::FromErrno(err, "starting the firewall guard");
  }
  if (pid == 0) RunGuard(sockets[1], owner, log);
  close(sockets[1]);
  out->reset(new FirewallGuard(pid, sockets[0], std::move(log)));
  return Status::Ok();
}

FirewallGuard::~FirewallGuard() {
  Status status = Close();
  if (!status.ok() && log_) log_(LogLevel::kWarning, "firewall: " + status.message());
}

bool FirewallGuard::Ask(const std::string& request, Status* status) {
  std::string answer;
  if (!SendLine(socket_, request) ||
      !ReceiveLine(socket_, static_cast<int>(kAnswerTimeout.count() * 1000), &answer)) {
    *status = Status(Code::kIoError, "the firewall guard (process " + std::to_string(pid_) +
                                         ") did not answer '" + request + "'");
    return false;
  }
  *status = DecodeStatus(answer);
  return true;
}

Status FirewallGuard::Open(const std::string& peer, uint16_t port) {
  Status status;
  Ask("open " + std::to_string(port) + " " + peer, &status);
  return status;
}

Status FirewallGuard::Close() {
  if (socket_ < 0) return Status::Ok();
  Status status;
  bool answered = Ask("close", &status);
  close(socket_);
  socket_ = -1;
  // It exits right after answering; one that did not answer finishes on its own.
  if (answered) waitpid(pid_, nullptr, 0);
  return status;
}

}  // namespace xfer::cli
