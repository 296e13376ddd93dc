// Process: a program started by ours (xfer-send or xfer-recv, directly or through ssh; nft), with
// pipes on stdin, stdout and stderr read line by line. Every wait has a deadline; the destructor
// kills and reaps a child still running.
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "xfer/status.h"

namespace xfer::cli {

class Process {
 public:
  using Clock = std::chrono::steady_clock;

  // `name` says in messages which process this is ("xfer-recv on db2"). argv[0] without a '/'
  // is looked up on PATH. own_group: the child gets a process group of its own, so a Ctrl-C on
  // the terminal does not reach it (a cleanup command must finish what the Ctrl-C started).
  static Status Start(const std::vector<std::string>& argv, std::string name,
                      std::unique_ptr<Process>* out, bool own_group = false);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  const std::string& name() const { return name_; }

  // Small writes only (tickets): the pipe buffer takes them without blocking.
  Status WriteStdin(std::string_view text);
  void CloseStdin();

  // The next stdout line, waiting until `deadline`. Fails when stdout ends first (the message
  // then carries the process's last stderr line) or the deadline passes.
  Status ReadLine(Clock::time_point deadline, std::string* line);

  // For an event loop: the descriptors to poll for reading (stdout and stderr while open).
  void AddPollFds(std::vector<pollfd>* fds) const;
  // Reads what is readable now; complete lines go to *out_lines and *err_lines.
  void Pump(std::vector<std::string>* out_lines, std::vector<std::string>* err_lines);
  // Both pipes have ended (the program exited or closed them).
  bool OutputEnded() const { return stdout_fd_ < 0 && stderr_fd_ < 0; }

  // Waits for the exit until `deadline`; false if it is still running then. exit_code() is the
  // program's status, or 128+N after signal N.
  bool Wait(Clock::time_point deadline);
  int exit_code() const { return exit_code_; }
  void Kill(int signal);

  // Why the program failed, in one line: its last stderr line without the "xfer-recv: error: "
  // prefix (the caller says which program on which host), or how it ended.
  std::string ErrorMessage() const;

 private:
  Process() = default;
  void ReadAvailable(std::vector<std::string>* out_lines, std::vector<std::string>* err_lines);
  void ReadFrom(int* fd, std::string* buffer, std::vector<std::string>* lines);

  std::string name_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::string out_buffer_;
  std::string err_buffer_;
  std::vector<std::string> pending_out_;  // lines read but not yet handed out by ReadLine
  std::string last_err_line_;
  int exit_code_ = -1;
};

}  // namespace xfer::cli
