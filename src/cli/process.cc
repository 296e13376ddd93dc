#include "process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace xfer::cli {

namespace {

int MillisLeft(Process::Clock::time_point deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Process::Clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 60'000));
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

}  // namespace

Status Process::Start(const std::vector<std::string>& argv, std::string name,
                      std::unique_ptr<Process>* out, bool own_group) {
  std::unique_ptr<Process> process(new Process());
  process->name_ = std::move(name);
  int in[2], output[2], errors[2];
  if (pipe2(in, O_CLOEXEC) != 0) return Status::FromErrno(errno, "starting " + process->name_);
  if (pipe2(output, O_CLOEXEC) != 0) {
    int err = errno;
    close(in[0]);
    close(in[1]);
    return Status::FromErrno(err, "starting " + process->name_);
  }
  if (pipe2(errors, O_CLOEXEC) != 0) {
    int err = errno;
    for (int fd : {in[0], in[1], output[0], output[1]}) close(fd);
    return Status::FromErrno(err, "starting " + process->name_);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, output[1], 1);
  posix_spawn_file_actions_adddup2(&actions, errors[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // SIGPIPE back to default: our programs ignore it, and exec keeps ignored signals ignored.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  short flags = POSIX_SPAWN_SETSIGDEF;
  if (own_group) {
    posix_spawnattr_setpgroup(&attr, 0);
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&attr, flags);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  int rc = posix_spawnp(&process->pid_, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(in[0]);
  close(output[1]);
  close(errors[1]);
  process->stdin_fd_ = in[1];
  process->stdout_fd_ = output[0];
  process->stderr_fd_ = errors[0];
  if (rc != 0) {
    process->pid_ = -1;
    return Status::FromErrno(rc, "starting " + process->name_ + " (" + argv[0] + ")");
  }
  process->pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, process->pid_, 0));
  if (process->pidfd_ < 0) return Status::FromErrno(errno, "watching " + process->name_);
  // A child that stops reading must not block us: tickets are small, the pipe holds them.
  fcntl(process->stdin_fd_, F_SETFL, fcntl(process->stdin_fd_, F_GETFL) | O_NONBLOCK);
  *out = std::move(process);
  return Status::Ok();
}

Process::~Process() {
  if (pid_ > 0 && exit_code_ < 0) {
    Kill(SIGKILL);
    Wait(Clock::now() + std::chrono::seconds(10));
  }
  for (int* fd : {&stdin_fd_, &stdout_fd_, &stderr_fd_, &pidfd_}) CloseFd(fd);
}

Status Process::WriteStdin(std::string_view text) {
  while (!text.empty()) {
    ssize_t n = write(stdin_fd_, text.data(), text.size());  // SIGPIPE is ignored by `xfer`
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::FromErrno(errno, "writing to " + name_);
    text.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

void Process::CloseStdin() { CloseFd(&stdin_fd_); }

void Process::ReadFrom(int* fd, std::string* buffer, std::vector<std::string>* lines) {
  char chunk[16384];
  ssize_t n = read(*fd, chunk, sizeof chunk);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    CloseFd(fd);
    if (!buffer->empty()) lines->push_back(std::move(*buffer));  // a last line without newline
    buffer->clear();
    return;
  }
  buffer->append(chunk, static_cast<size_t>(n));
  size_t start = 0;
  for (size_t newline; (newline = buffer->find('\n', start)) != std::string::npos;
       start = newline + 1) {
    lines->push_back(buffer->substr(start, newline - start));
  }
  buffer->erase(0, start);
}

void Process::AddPollFds(std::vector<pollfd>* fds) const {
  if (stdout_fd_ >= 0) fds->push_back(pollfd{stdout_fd_, POLLIN, 0});
  if (stderr_fd_ >= 0) fds->push_back(pollfd{stderr_fd_, POLLIN, 0});
}

void Process::Pump(std::vector<std::string>* out_lines, std::vector<std::string>* err_lines) {
  for (std::string& line : pending_out_) out_lines->push_back(std::move(line));
  pending_out_.clear();
  ReadAvailable(out_lines, err_lines);
}

void Process::ReadAvailable(std::vector<std::string>* out_lines,
                            std::vector<std::string>* err_lines) {
  pollfd fds[2] = {{stdout_fd_, POLLIN, 0}, {stderr_fd_, POLLIN, 0}};
  if (poll(fds, 2, 0) <= 0) return;
  if (fds[0].revents != 0) ReadFrom(&stdout_fd_, &out_buffer_, out_lines);
  if (fds[1].revents != 0) {
    size_t before = err_lines->size();
    ReadFrom(&stderr_fd_, &err_buffer_, err_lines);
    for (size_t i = err_lines->size(); i > before; --i) {
      if (!(*err_lines)[i - 1].empty()) {
        last_err_line_ = (*err_lines)[i - 1];
        break;
      }
    }
  }
}

Status Process::ReadLine(Clock::time_point deadline, std::string* line) {
  std::vector<std::string> ignored_errors;
  while (pending_out_.empty()) {
    if (stdout_fd_ < 0) return Status(Code::kPeerFailed, ErrorMessage());
    std::vector<pollfd> fds;
    AddPollFds(&fds);
    int left = MillisLeft(deadline);
    if (left == 0) return Status(Code::kTimeout, name_ + " did not answer in time");
    if (poll(fds.data(), fds.size(), left) < 0 && errno != EINTR) {
      return Status::FromErrno(errno, "waiting for " + name_);
    }
    ReadAvailable(&pending_out_, &ignored_errors);
  }
  *line = std::move(pending_out_.front());
  pending_out_.erase(pending_out_.begin());
  return Status::Ok();
}

std::string Process::ErrorMessage() const {
  for (const char* prefix : {"xfer-recv: error: ", "xfer-send: error: "}) {
    if (last_err_line_.rfind(prefix, 0) == 0) return last_err_line_.substr(strlen(prefix));
  }
  if (!last_err_line_.empty()) return last_err_line_;
  if (exit_code_ >= 0) return "exited with status " + std::to_string(exit_code_);
  return "ended without output";
}

bool Process::Wait(Clock::time_point deadline) {
  if (exit_code_ >= 0) return true;
  if (pid_ <= 0) return false;
  pollfd p{pidfd_, POLLIN, 0};
  while (poll(&p, 1, MillisLeft(deadline)) < 0 && errno == EINTR) {
  }
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return true;
}

void Process::Kill(int signal) {
  if (pidfd_ >= 0 && exit_code_ < 0) syscall(SYS_pidfd_send_signal, pidfd_, signal, nullptr, 0);
}

}  // namespace xfer::cli
