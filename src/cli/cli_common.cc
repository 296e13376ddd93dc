#include "cli_common.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "shell_quote.h"
#include "xfer/version.h"

namespace xfer::cli {

namespace {

constexpr size_t kMaxTicketLine = 256;

CancelToken* g_cancel_on_signal = nullptr;

void OnSignal(int) {
  if (g_cancel_on_signal != nullptr) g_cancel_on_signal->Cancel();
}

}  // namespace

int ReportError(std::string_view program, const Status& status) {
  std::fprintf(stderr, "%.*s: error: %s\n", static_cast<int>(program.size()), program.data(),
               status.message().c_str());
  return kExitFailed;
}

int ReportError(std::string_view program, const Status& status, bool json) {
  if (json) {
    std::printf("{\"event\":\"error\",\"code\":\"%s\",\"error\":%s}\n",
                ErrorCodeName(status.code()), JsonString(status.message()).c_str());
    std::fflush(stdout);
  }
  return ReportError(program, status);
}

const char* ErrorCodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      return "invalid_argument";
    case Code::kIoError:
      return "io_error";
    case Code::kNoSpace:
      return "no_space";
    case Code::kExists:
      return "exists";
    case Code::kNetwork:
      return "network";
    case Code::kAuth:
      return "auth";
    case Code::kProtocol:
      return "protocol";
    case Code::kCorrupt:
      return "corrupt";
    case Code::kUnsafe:
      return "unsafe";
    case Code::kTimeout:
      return "timeout";
    case Code::kCancelled:
      return "cancelled";
    case Code::kPeerFailed:
      return "peer_failed";
  }
  return "unknown";
}

void CancelOnSignals(CancelToken* token) {
  g_cancel_on_signal = token;
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

void AddCommonFlags(CLI::App* app, std::string_view program, CommonFlags* flags) {
  app->add_option("--timeout", flags->timeout_s,
                  "Seconds to wait for the peer to connect or answer")
      ->default_val(300)
      ->check(CLI::Range(1, 86400));
  app->add_option("--idle-timeout", flags->idle_timeout_s,
                  "Seconds of silence from the peer mid-transfer before giving up")
      ->default_val(60)
      ->check(CLI::Range(1, 86400));
  app->add_option("--threads", flags->threads,
                  "Threads that compress (sender) or decompress (receiver); 0: the idle cores "
                  "(cores minus the 1-minute load average, at least 1)")
      ->default_val(0)
      ->check(CLI::Range(0, 256));
  app->add_flag("--progress", flags->progress, "Show progress on stderr");
  app->add_flag("--lifeline", flags->lifeline,
                "Stop (as on SIGTERM) when stdin ends: how xfer ties the programs it starts to "
                "itself");
  app->add_flag("--json", flags->json,
                "Print progress as JSON lines on stdout, once a second, before the result line");
  app->add_flag("-v,--verbose", flags->verbose, "Log connection details on stderr");
  app->set_version_flag("--version", VersionLine(program));
}

bool ParseCommandLine(CLI::App* app, int argc, char** argv, int* exit_code) {
  try {
    app->parse(argc, argv);
    return true;
  } catch (const CLI::ParseError& e) {
    *exit_code = app->exit(e) == 0 ? kExitOk : kExitUsage;
    return false;
  }
}

ProgressCallback StderrProgress(std::string_view program) {
  bool tty = isatty(STDERR_FILENO);
  std::string name(program);
  return [tty, name](const Progress& p) {
    double rate = p.seconds > 0 ? p.done_bytes / p.seconds / 1e6 : 0;
    if (p.total_bytes == 0) {  // a stream: its size is known at its end
      std::fprintf(stderr, "%s%s: %llu bytes, %.1f MB/s%s", tty ? "\r" : "", name.c_str(),
                   static_cast<unsigned long long>(p.done_bytes), rate, tty ? "\033[K" : "\n");
      std::fflush(stderr);
      return;
    }
    double percent = 100.0 * p.done_bytes / p.total_bytes;
    std::fprintf(stderr, "%s%s: %.1f%% %llu/%llu bytes, %llu entries, %.1f MB/s%s", tty ? "\r" : "",
                 name.c_str(), percent, static_cast<unsigned long long>(p.done_bytes),
                 static_cast<unsigned long long>(p.total_bytes),
                 static_cast<unsigned long long>(p.entries_done), rate, tty ? "\033[K" : "\n");
    std::fflush(stderr);
  };
}

ProgressCallback JsonProgress() {
  return [](const Progress& p) {
    std::printf(
        "{\"event\":\"progress\",\"bytes\":%llu,\"total_bytes\":%llu,\"wire_bytes\":%llu,"
        "\"entries\":%llu,\"seconds\":%.3f}\n",
        static_cast<unsigned long long>(p.done_bytes),
        static_cast<unsigned long long>(p.total_bytes),
        static_cast<unsigned long long>(p.wire_bytes),
        static_cast<unsigned long long>(p.entries_done), p.seconds);
    std::fflush(stdout);
  };
}

LogCallback StderrLog(std::string_view program, bool verbose) {
  std::string name(program);
  return [name, verbose](LogLevel level, std::string_view line) {
    if (level == LogLevel::kInfo && !verbose) return;
    std::fprintf(stderr, "%s: %.*s\n", name.c_str(), static_cast<int>(line.size()), line.data());
  };
}

Status ReadTicketFromStdin(std::chrono::seconds timeout, std::string* line) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char c;
  while (line->size() < kMaxTicketLine) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{STDIN_FILENO, POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Status::FromErrno(errno, "waiting for the ticket on stdin");
    if (ready == 0) {
      return Status(Code::kTimeout,
                    "no ticket arrived on stdin within " + std::to_string(timeout.count()) + " s");
    }
    ssize_t n = read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "reading the ticket from stdin");
    if (n == 0 || c == '\n') break;
    *line += c;
  }
  if (line->empty()) return Status(Code::kInvalidArgument, "no ticket on stdin");
  return Status::Ok();
}

bool ParseSize(const std::string& text, uint64_t* out) {
  if (text.empty()) return false;
  size_t digits = 0;
  uint64_t value = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    if (value > (UINT64_MAX - 9) / 10) return false;
    value = value * 10 + static_cast<uint64_t>(text[digits] - '0');
    ++digits;
  }
  if (digits == 0) return false;
  std::string suffix = text.substr(digits);
  int shift = 0;
  if (suffix == "K" || suffix == "k") {
    shift = 10;
  } else if (suffix == "M" || suffix == "m") {
    shift = 20;
  } else if (suffix == "G" || suffix == "g") {
    shift = 30;
  } else if (!suffix.empty()) {
    return false;
  }
  if (shift > 0 && value > (UINT64_MAX >> shift)) return false;
  *out = value << shift;
  return true;
}

std::string VersionLine(std::string_view program) {
  return std::string(program) + " " XFER_VERSION " (protocol " + std::to_string(kProtocolVersion) +
         ")";
}

std::string PreflightJson(const std::string& fields) {
  return "{\"preflight\":\"ok\",\"version\":\"" XFER_VERSION "\",\"protocol\":" +
         std::to_string(kProtocolVersion) + "," + fields + "}";
}

void AddExecFlags(CLI::App* app, const std::string& help, ExecFlags* flags) {
  CLI::Option* exec = app->add_option("--exec", flags->command, help)->type_name("CMD");
  app->add_flag("--shell", flags->shell,
                "Run the --exec CMD with /bin/sh -c (pipes, variables, globs)")
      ->needs(exec);
}

bool ExecArgv(std::string_view program, const ExecFlags& flags, std::vector<std::string>* argv) {
  if (flags.command.empty()) return true;
  Status split = CommandArgv(flags.command, flags.shell, argv);
  if (split.ok()) return true;
  std::fprintf(stderr, "%.*s: error: --exec: %s\n", static_cast<int>(program.size()),
               program.data(), split.message().c_str());
  return false;
}

}  // namespace xfer::cli
