#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

extern char** environ;

namespace xfer::testing {

namespace {

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) std::abort();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) std::abort();
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  stdin_fd_ = in[1];
  stdout_fd_ = out[0];
  stderr_fd_ = err[0];
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd_ < 0) std::abort();
}

ChildProcess::~ChildProcess() {
  if (exit_code_ < 0) {
    Kill(SIGKILL);
    Wait(std::chrono::seconds(30));
  }
  for (int fd : {stdin_fd_, stdout_fd_, stderr_fd_, pidfd_}) {
    if (fd >= 0) close(fd);
  }
}

void ChildProcess::WriteStdin(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(stdin_fd_, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

void ChildProcess::CloseStdin() {
  if (stdin_fd_ >= 0) close(stdin_fd_);
  stdin_fd_ = -1;
}

void ChildProcess::Drain(std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{stdout_fd_, POLLIN, 0}, {stderr_fd_, POLLIN, 0}};
  if (poll(fds, 2, static_cast<int>(timeout.count())) <= 0) return;
  char buf[65536];
  for (int i = 0; i < 2; ++i) {
    if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
    ssize_t n = read(fds[i].fd, buf, sizeof buf);
    if (n > 0) {
      (i == 0 ? out_ : err_).append(buf, static_cast<size_t>(n));
    } else if (n == 0) {
      close(fds[i].fd);
      (i == 0 ? stdout_fd_ : stderr_fd_) = -1;
    }
  }
}

std::string ChildProcess::ReadStdoutLine(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    size_t newline = out_.find('\n', out_read_);
    if (newline != std::string::npos) {
      std::string line = out_.substr(out_read_, newline - out_read_);
      out_read_ = newline + 1;
      return line;
    }
    if (stdout_fd_ < 0 || Clock::now() >= deadline) return "";
    Drain(std::chrono::milliseconds(MillisLeft(deadline)));
  }
}

bool ChildProcess::WaitForStderr(const std::string& text, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (err_.find(text) == std::string::npos) {
    if (stderr_fd_ < 0 || Clock::now() >= deadline) return false;
    Drain(std::chrono::milliseconds(MillisLeft(deadline)));
  }
  return true;
}

int ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (exit_code_ >= 0) return exit_code_;
  auto deadline = Clock::now() + timeout;
  while (stdout_fd_ >= 0 || stderr_fd_ >= 0) {
    if (Clock::now() >= deadline) return -1;
    Drain(std::chrono::milliseconds(MillisLeft(deadline)));
  }
  pollfd p{pidfd_, POLLIN, 0};
  if (poll(&p, 1, MillisLeft(deadline)) <= 0) return -1;
  int status = 0;
  rusage usage{};
  if (wait4(pid_, &status, 0, &usage) != pid_) return -1;
  peak_rss_kib_ = usage.ru_maxrss;  // KiB on Linux
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_code_;
}

void ChildProcess::Kill(int signal) {
  if (exit_code_ < 0) syscall(SYS_pidfd_send_signal, pidfd_, signal, nullptr, 0);
}

}  // namespace xfer::testing
