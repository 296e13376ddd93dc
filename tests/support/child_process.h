// ChildProcess: runs one of the real programs with pipes on stdin, stdout and stderr, for
// end-to-end tests. Every wait has a deadline; the destructor kills and reaps.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

namespace xfer::testing {

class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Writes to the child's stdin; CloseStdin() sends EOF.
  void WriteStdin(const std::string& text);
  void CloseStdin();
  // Reads one line of stdout (without the newline); "" when stdout ended or the deadline passed.
  std::string ReadStdoutLine(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Waits until what the child wrote on stderr contains text; false if stderr ended, or the
  // deadline passed, first.
  bool WaitForStderr(const std::string& text,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Waits for exit (collecting the rest of stdout and stderr); -1 on timeout, 128+N for signal N.
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(120));
  void Kill(int signal);
  // The child's peak resident memory over its whole life (getrusage's ru_maxrss), once Wait()
  // reaped it; -1 before.
  long peak_rss_kib() const { return peak_rss_kib_; }

  const std::string& stdout_text() const { return out_; }
  const std::string& stderr_text() const { return err_; }

 private:
  // Moves what is readable now from the pipes into out_/err_, waiting up to timeout for some.
  void Drain(std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  int pidfd_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::string out_;
  std::string err_;
  size_t out_read_ = 0;             // bytes of out_ already handed out by ReadStdoutLine
  std::atomic<int> exit_code_{-1};  // Kill() may run on another thread than Wait()
  long peak_rss_kib_ = -1;
};

}  // namespace xfer::testing
