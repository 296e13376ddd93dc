// CommandProcess: a command a transfer runs at one end: xfer-send --exec's producer (its stdout
// is what is sent) or xfer-recv --exec's consumer (what arrives is its stdin).
//
// The command runs without a shell (argv[0] without a '/' is looked up in PATH), in a process
// group of its own so that killing it reaches what it started, with the default signal mask and
// dispositions. Its other standard streams: stdin is /dev/null for a producer; stdout goes to our
// stderr for a consumer (our stdout carries the ticket and the JSON result); stderr is ours.
// Every wait has a deadline; the destructor kills the group and reaps a command still running.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "deadline.h"
#include "fs_util.h"
#include "xfer/cancel.h"
#include "xfer/status.h"

namespace xfer {

class CommandProcess {
 public:
  enum class Role { kProducer, kConsumer };

  // Starts argv in cwd ("" for ours). Fails naming the command when it cannot be started (not
  // found, not executable, cwd missing).
  static Status Start(const std::vector<std::string>& argv, Role role, const std::string& cwd,
                      std::unique_ptr<CommandProcess>* out);
  // Fails, as Start would, when argv[0] is not an executable file (looked up in PATH when it has
  // no '/'): for checking a command before a transfer starts.
  static Status CheckRunnable(const std::vector<std::string>& argv);
  ~CommandProcess();
  CommandProcess(const CommandProcess&) = delete;
  CommandProcess& operator=(const CommandProcess&) = delete;

  // Our end of its stdout (producer) or stdin (consumer): non-blocking, close-on-exec.
  int fd() const { return pipe_.get(); }
  // Closes our end: a consumer sees the end of its input.
  void ClosePipe() { pipe_.reset(); }

  // Waits until it exits or the deadline passes (then it is killed), or cancel is set (likewise).
  // Ok when it exited with status 0; otherwise "'mbstream -x' exited with status 2", "... was
  // killed by signal 9", "... did not exit within 300 s".
  Status Wait(Deadline deadline, const CancelToken* cancel);
  // Kills its process group (SIGKILL) and reaps it; its status is then not asked for.
  void Kill();

  // "'mariadb-backup --backup ...'": the command for messages (its words, shortened if long).
  const std::string& shown() const { return shown_; }

 private:
  CommandProcess() = default;
  Status Reap(int wait_status);

  pid_t pid_ = -1;
  UniqueFd pidfd_;
  UniqueFd pipe_;
  std::string shown_;
};

}  // namespace xfer
