#include "run_command.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>

#include "process.h"

namespace xfer::cli {

std::string JoinWords(const std::vector<std::string>& words) {
  std::string joined;
  for (const std::string& word : words) {
    if (!joined.empty()) joined += ' ';
    joined += word;
  }
  return joined;
}

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
  std::string command = JoinWords(argv);
  std::unique_ptr<Process> process;
  // Its own process group: a Ctrl-C on the terminal reaches xfer-recv, which then removes its
  // firewall rules; the nft that removes them must not be interrupted by the same keystroke.
  XFER_RETURN_IF_ERROR(Process::Start(argv, command, &process, /*own_group=*/true));
  process->CloseStdin();
  auto deadline = Process::Clock::now() + timeout;
  std::vector<std::string> out_lines, err_lines;
  while (!process->OutputEnded() && Process::Clock::now() < deadline) {
    std::vector<pollfd> fds;
    process->AddPollFds(&fds);
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Process::Clock::now());
    if (poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(left.count(), 0))) < 0 &&
        errno != EINTR) {
      return Status::FromErrno(errno, "waiting for " + command);
    }
    process->Pump(&out_lines, &err_lines);
  }
  if (!process->Wait(deadline)) {
    return Status(Code::kTimeout, command + ": no answer within " +
                                      std::to_string(timeout.count()) + " ms; killed it");
  }
  if (out != nullptr) {
    out->clear();
    for (const std::string& line : out_lines) *out += line + "\n";
  }
  if (process->exit_code() == 0) return Status::Ok();
  int code = process->exit_code();
  std::string how = code > 128 ? std::string("killed by signal ") + strsignal(code - 128)
                               : "exited with status " + std::to_string(code);
  std::string detail;
  for (const std::string& line : err_lines) {
    size_t begin = line.find_first_not_of(" \t");
    if (begin == std::string::npos) continue;
    // Tools print multi-line errors (nft points at the offending token); ours is one line.
    detail += (detail.empty() ? "" : " | ") + line.substr(begin);
  }
  return Status(Code::kIoError, command + ": " + how + (detail.empty() ? "" : ": " + detail));
}

}  // namespace xfer::cli
