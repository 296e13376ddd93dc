#include "host_command.h"

#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <optional>

namespace xfer::orchestrator {

namespace {

using Clock = cli::Process::Clock;

// Between SIGTERM and SIGKILL.
constexpr auto kTermGrace = std::chrono::seconds(5);

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// "[00] 2026-11-28 23:56:08 Failed to connect" -> "Failed to connect"; mariadb-backup's
// "[00] FATAL ERROR: 2026-11-28 23:56:08 Can't open" keeps "FATAL ERROR: Can't open".
std::string WithoutLogPrefix(const std::string& line) {
  std::string text = line;
  if (text.size() > 5 && text[0] == '[' && text[3] == ']' && text[4] == ' ') text.erase(0, 5);
  std::string head;
  if (text.rfind("FATAL ERROR: ", 0) == 0) {
    head = "FATAL ERROR: ";
    text.erase(0, head.size());
  }
  // "YYYY-MM-DD HH:MM:SS "
  auto digits = [&](size_t from, size_t count) {
    for (size_t i = from; i < from + count; ++i) {
      if (i >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i]))) return false;
    }
    return true;
  };
  if (text.size() > 20 && digits(0, 4) && text[4] == '-' && digits(5, 2) && text[7] == '-' &&
      digits(8, 2) && text[10] == ' ' && digits(11, 2) && text[13] == ':' && digits(14, 2) &&
      text[16] == ':' && digits(17, 2) && text[19] == ' ') {
    text.erase(0, 20);
  }
  return head + text;
}

}  // namespace

HostCommand StartCommand(const std::vector<std::string>& argv, std::string what) {
  HostCommand command;
  command.what = std::move(what);
  command.started = cli::Process::Start(argv, command.what, &command.process, /*own_group=*/true);
  if (command.started.ok()) command.process->CloseStdin();
  return command;
}

HostCommand StartOnHost(Hosts* hosts, const HostPath& host, const std::vector<std::string>& argv,
                        std::string what) {
  return StartCommand(hosts->SystemCommand(host, argv), std::move(what));
}

void WaitForAll(std::vector<HostCommand>* commands, Clock::time_point deadline,
                const CancelToken* cancel, bool verbose) {
  std::optional<Clock::time_point> kill_at;  // set once SIGTERM went out
  while (true) {
    std::vector<pollfd> fds;
    if (cancel != nullptr) fds.push_back(pollfd{cancel->fd(), POLLIN, 0});
    size_t own = fds.size();
    for (const HostCommand& command : *commands) {
      if (command.started.ok()) command.process->AddPollFds(&fds);
    }
    if (fds.size() == own) break;  // every output ended: they exited (or closed it)
    Clock::time_point wake = kill_at ? *kill_at : deadline;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now());
    int wait_ms = static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1000));
    if (poll(fds.data(), fds.size(), wait_ms) < 0 && errno != EINTR) break;
    for (HostCommand& command : *commands) {
      if (!command.started.ok()) continue;
      std::vector<std::string> out, err;
      command.process->Pump(&out, &err);
      command.out.insert(command.out.end(), out.begin(), out.end());
      for (const std::string& line : err) {
        if (verbose) std::fprintf(stderr, "xfer: %s: %s\n", command.what.c_str(), line.c_str());
        command.err.push_back(line);
      }
      if (command.err.size() > kKeptErrorLines) {
        command.err.erase(command.err.begin(), command.err.end() - kKeptErrorLines);
      }
    }
    bool stop = Clock::now() >= deadline || (cancel != nullptr && cancel->IsCancelled());
    if (stop && !kill_at) {
      for (HostCommand& command : *commands) {
        if (command.started.ok()) command.process->Kill(SIGTERM);
      }
      kill_at = Clock::now() + kTermGrace;
    }
    if (kill_at && Clock::now() >= *kill_at) {
      for (HostCommand& command : *commands) {
        if (command.started.ok()) command.process->Kill(SIGKILL);
      }
    }
  }
  for (HostCommand& command : *commands) {
    if (!command.started.ok()) continue;
    if (!command.process->Wait(Clock::now() + kTermGrace)) {
      command.process->Kill(SIGKILL);
      command.process->Wait(Clock::now() + kTermGrace);
    }
  }
}

Status Outcome(const HostCommand& command) {
  if (!command.started.ok()) return command.started;
  int code = command.process->exit_code();
  if (code == 0) return Status::Ok();
  std::string how = code < 0     ? "did not exit"
                    : code > 128 ? "killed by signal " + std::to_string(code - 128)
                                 : "exited with status " + std::to_string(code);
  std::string line = TellingLine(command.err);
  return Status(Code::kPeerFailed, command.what + ": " + how + (line.empty() ? "" : ": " + line));
}

std::string TellingLine(const std::vector<std::string>& lines) {
  static const char* const kTelling[] = {"error",   "fail",       "denied",  "unknown",
                                         "can't",   "cannot",     "no such", "not found",
                                         "refused", "permission", "invalid"};
  std::string last;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (it->find_first_not_of(" \t\r") == std::string::npos) continue;
    if (last.empty()) last = *it;
    std::string lower = Lower(*it);
    for (const char* word : kTelling) {
      if (lower.find(word) != std::string::npos) return WithoutLogPrefix(*it);
    }
  }
  return WithoutLogPrefix(last);
}

}  // namespace xfer::orchestrator
