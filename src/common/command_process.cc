#include "command_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace xfer {

namespace {

constexpr size_t kShownMax = 60;  // characters of a command line quoted in messages

std::string ShowCommand(const std::vector<std::string>& argv) {
  std::string joined;
  for (const std::string& word : argv) joined += (joined.empty() ? "" : " ") + word;
  if (joined.size() > kShownMax) joined = joined.substr(0, kShownMax - 3) + "...";
  return "'" + joined + "'";
}

// posix_spawn's attributes and file actions, released on every path.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

}  // namespace

Status CommandProcess::CheckRunnable(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0].empty())
    return Status(Code::kInvalidArgument, "the command is empty");
  const std::string& name = argv[0];
  std::string shown = ShowCommand(argv);
  if (name.find('/') != std::string::npos) {
    if (access(name.c_str(), X_OK) != 0) return Status::FromErrno(errno, "command " + shown);
    return Status::Ok();
  }
  const char* path = getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = end > start ? dirs.substr(start, end - start) : ".";
    std::string candidate = dir + "/" + name;
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate.c_str(), X_OK) == 0) {
      return Status::Ok();
    }
    start = end + 1;
  }
  return Status(Code::kInvalidArgument, "command " + shown + ": " + name + " is not in PATH");
}

Status CommandProcess::Start(const std::vector<std::string>& argv, Role role,
                             const std::string& cwd, std::unique_ptr<CommandProcess>* out) {
  if (argv.empty() || argv[0].empty())
    return Status(Code::kInvalidArgument, "the command is empty");
  std::unique_ptr<CommandProcess> process(new CommandProcess());
  process->shown_ = ShowCommand(argv);
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) return Status::FromErrno(errno, "starting " + process->shown_);
  UniqueFd read_end(ends[0]);
  UniqueFd write_end(ends[1]);
  bool producer = role == Role::kProducer;
  int child_end = producer ? write_end.get() : read_end.get();

  SpawnSetup setup;
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;  // what a transfer blocks or ignores (SIGPIPE) must not carry over
  sigemptyset(&defaults);
  for (int signal : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&defaults, signal);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setflags(&setup.attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  if (producer) {
    posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&setup.actions, child_end, STDOUT_FILENO);
  } else {
    posix_spawn_file_actions_adddup2(&setup.actions, child_end, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&setup.actions, STDERR_FILENO, STDOUT_FILENO);
  }
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&setup.actions, cwd.c_str());

  std::vector<char*> args;
  for (const std::string& word : argv) args.push_back(const_cast<char*>(word.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int error = posix_spawnp(&pid, args[0], &setup.actions, &setup.attr, args.data(), environ);
  if (error != 0) {
    std::string message = "starting " + process->shown_ + ": " + std::strerror(error);
    if (error == ENOENT && !cwd.empty() && access(cwd.c_str(), X_OK) != 0) {
      message = "starting " + process->shown_ + " in " + cwd + ": " + std::strerror(errno);
    } else if (error == ENOENT && argv[0].find('/') == std::string::npos) {
      message = "starting " + process->shown_ + ": " + argv[0] + " is not in PATH";
    }
    return Status(Code::kInvalidArgument, message);
  }
  process->pid_ = pid;
  process->pidfd_ = UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!process->pidfd_.valid()) {
    Status status = Status::FromErrno(errno, "watching " + process->shown_);
    process->Kill();
    return status;
  }
  process->pipe_ = producer ? std::move(read_end) : std::move(write_end);
  int flags = fcntl(process->pipe_.get(), F_GETFL);
  fcntl(process->pipe_.get(), F_SETFL, flags | O_NONBLOCK);
  *out = std::move(process);
  return Status::Ok();
}

CommandProcess::~CommandProcess() {
  if (pid_ > 0) Kill();
}

void CommandProcess::Kill() {
  if (pid_ <= 0) return;
  kill(-pid_, SIGKILL);
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

Status CommandProcess::Reap(int wait_status) {
  pid_ = -1;
  if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) return Status::Ok();
  if (WIFEXITED(wait_status)) {
    return Status(Code::kIoError,
                  shown_ + " exited with status " + std::to_string(WEXITSTATUS(wait_status)));
  }
  return Status(Code::kIoError, shown_ + " was killed by signal " +
                                    std::to_string(WTERMSIG(wait_status)) + " (" +
                                    strsignal(WTERMSIG(wait_status)) + ")");
}

Status CommandProcess::Wait(Deadline deadline, const CancelToken* cancel) {
  if (pid_ <= 0) return Status(Code::kInvalidArgument, shown_ + " was already waited for");
  while (true) {
    int wait_status = 0;
    pid_t done = waitpid(pid_, &wait_status, WNOHANG);
    if (done == pid_) return Reap(wait_status);
    if (done < 0 && errno != EINTR) return Status::FromErrno(errno, "waiting for " + shown_);
    pollfd fds[2] = {{pidfd_.get(), POLLIN, 0}, {cancel ? cancel->fd() : -1, POLLIN, 0}};
    int ready = poll(fds, 2, deadline.PollTimeoutMs());
    if (ready < 0 && errno != EINTR) return Status::FromErrno(errno, "waiting for " + shown_);
    if (cancel != nullptr && cancel->IsCancelled()) {
      Kill();
      return Status(Code::kCancelled, "cancelled while waiting for " + shown_);
    }
    if (ready == 0 && deadline.Expired()) {
      Kill();
      return Status(Code::kTimeout, shown_ + " did not exit in time (killed)");
    }
  }
}

}  // namespace xfer
