#include "run_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

extern char** environ;

namespace xfer::cli {

namespace {

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Closes its descriptors on every return path of RunCommand.
struct Fds {
  int out = -1;
  int err = -1;
  int pidfd = -1;
  ~Fds() {
    for (int fd : {out, err, pidfd}) {
      if (fd >= 0) close(fd);
    }
  }
};

std::string CommandLine(const std::vector<std::string>& argv) {
  std::string line;
  for (const std::string& arg : argv) {
    if (!line.empty()) line += ' ';
    line += arg;
  }
  return line;
}

// Tools print multi-line errors (nft points at the offending token); an error here is one line.
std::string OneLine(const std::string& text) {
  std::string line;
  std::istringstream lines(text);
  std::string part;
  while (std::getline(lines, part)) {
    size_t begin = part.find_first_not_of(" \t");
    if (begin == std::string::npos) continue;
    if (!line.empty()) line += " | ";
    line += part.substr(begin);
  }
  return line;
}

void KillAndReap(pid_t pid) {
  kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

std::string FindProgram(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = std::string(path != nullptr ? path : "") + ":/usr/sbin:/sbin";
  std::istringstream split(dirs);
  std::string dir;
  while (std::getline(split, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

Status RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                  std::string* out) {
  std::string command = CommandLine(argv);
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return Status::FromErrno(errno, "running " + command);
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    int err = errno;
    close(out_pipe[0]);
    close(out_pipe[1]);
    return Status::FromErrno(err, "running " + command);
  }
  Fds fds{out_pipe[0], err_pipe[0]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group: a Ctrl-C on the terminal reaches xfer-recv, which then removes its
  // firewall rules; the nft that removes them must not be interrupted by the same keystroke.
  // SIGPIPE back to default: the programs ignore it, and exec keeps ignored signals ignored.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int spawn_error = posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (spawn_error != 0) return Status::FromErrno(spawn_error, "running " + command);
  fds.pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fds.pidfd < 0) {
    int err = errno;
    KillAndReap(pid);
    return Status::FromErrno(err, "waiting for " + command);
  }

  auto deadline = Clock::now() + timeout;
  std::string err_text;
  out->clear();
  // Reads both pipes until the command closes them, then waits for it to exit.
  while (true) {
    pollfd polled[3] = {{fds.out, POLLIN, 0}, {fds.err, POLLIN, 0}, {-1, 0, 0}};
    if (fds.out < 0 && fds.err < 0) polled[2] = {fds.pidfd, POLLIN, 0};
    int ready = poll(polled, 3, MillisLeft(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      int err = errno;
      KillAndReap(pid);
      return Status::FromErrno(err, "waiting for " + command);
    }
    if (ready == 0) {
      KillAndReap(pid);
      return Status(Code::kTimeout, command + ": no answer within " +
                                        std::to_string(timeout.count()) + " ms; killed it");
    }
    if (polled[2].revents != 0) break;
    char buf[4096];
    for (int i = 0; i < 2; ++i) {
      if (polled[i].revents == 0) continue;
      int& fd = i == 0 ? fds.out : fds.err;
      ssize_t n = read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n > 0) {
        (i == 0 ? *out : err_text).append(buf, static_cast<size_t>(n));
      } else {
        close(fd);
        fd = -1;
      }
    }
  }

  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0) {
    if (errno != EINTR) return Status::FromErrno(errno, "waiting for " + command);
  }
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) return Status::Ok();
  std::string how = WIFEXITED(wait_status)
                        ? "exited with status " + std::to_string(WEXITSTATUS(wait_status))
                        : std::string("killed by signal ") + strsignal(WTERMSIG(wait_status));
  std::string detail = OneLine(err_text);
  return Status(Code::kIoError, command + ": " + how + (detail.empty() ? "" : ": " + detail));
}

}  // namespace xfer::cli
