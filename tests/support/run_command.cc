#include "run_command.h"

#include "child_process.h"

namespace xfer::testing {

std::string JoinWords(const std::vector<std::string>& words) {
  std::string joined;
  for (const std::string& word : words) {
    if (!joined.empty()) joined += ' ';
    joined += word;
  }
  return joined;
}

Status RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  ChildProcess child(argv);
  child.CloseStdin();
  int exit_code = child.Wait(timeout);
  if (exit_code == 0) return Status::Ok();
  if (exit_code < 0) {
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout).count();
    return Status(Code::kTimeout,
                  JoinWords(argv) + ": timed out after " + std::to_string(seconds) + "s");
  }
  const std::string& err = child.stderr_text();
  return Status(Code::kIoError, JoinWords(argv) + ": exit " + std::to_string(exit_code) + ": " +
                                    err.substr(0, err.find('\n')));
}

}  // namespace xfer::testing
