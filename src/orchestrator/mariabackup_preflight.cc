#include "mariabackup_preflight.h"

#include "host_command.h"
#include "json_line.h"
#include "xfer/version.h"

namespace xfer::orchestrator {

namespace {

constexpr auto kPreflightDeadline = std::chrono::seconds(60);
// The check scripts print one problem per line, then this line: without it, the script did not
// run to its end (ssh failed, no sh).
constexpr char kChecked[] = "checked";

// sh -c SCRIPT sh PROGRAM...: each PROGRAM (a path, or a name on PATH) must be executable.
constexpr char kCheckPrograms[] = R"sh(
for p in "$@"; do
  case $p in
    */*) [ -f "$p" ] && [ -x "$p" ] || echo "$p: not found or not executable" ;;
    *) command -v "$p" >/dev/null 2>&1 || echo "$p: not found on PATH" ;;
  esac
done
echo checked
)sh";

// sh -c SCRIPT sh SOCKET PROGRAM...
const std::string kCheckSource = std::string(R"sh(
socket=$1; shift
if [ ! -e "$socket" ]; then
  echo "no socket at $socket (is the server running, with that socket?)"
elif [ ! -S "$socket" ]; then
  echo "$socket is not a socket"
fi
)sh") + kCheckPrograms;

// sh -c SCRIPT sh DIR PROGRAM... (whether DIR exists and takes entries, xfer-recv checks).
const std::string kCheckTarget = std::string(R"sh(
dir=$1; shift
if [ -d "$dir" ]; then
  found=$(ls -A -- "$dir" | grep -vx 'lost+found' | head -n 3 | tr '\n' ' ')
  [ -z "$found" ] ||
    echo "$dir is not empty (it holds ${found% }): a backup needs an empty directory of its own"
fi
)sh") + kCheckPrograms;

// One question to one host, and how to read its answer.
struct Question {
  enum class Kind {
    kPreflight,  // xfer-send or xfer-recv --preflight: one JSON line
    kScript,     // a check script: one problem per line, then kChecked
  };
  std::string label;  // how problems name the host: "source db1:/run/mysqld/mysqld.sock"
  Kind kind;
};

Status CheckProtocol(uint64_t protocol) {
  if (protocol == kProtocolVersion) return Status::Ok();
  return Status(Code::kProtocol, "speaks protocol " + std::to_string(protocol) +
                                     ", this xfer speaks " + std::to_string(kProtocolVersion) +
                                     " (install the same version everywhere)");
}

// The problems one answer holds, one line each.
void Judge(const Question& question, const HostCommand& command,
           std::vector<std::string>* problems) {
  auto problem = [&](const std::string& text) {
    problems->push_back(question.label + ": " + text);
  };
  Status outcome = Outcome(command);
  bool ours = question.kind != Question::Kind::kScript;
  if (!outcome.ok()) {
    // Our programs say why on stderr ("xfer-recv: error: ..."), without the program's name.
    problem(ours && command.started.ok() ? command.process->ErrorMessage() : outcome.message());
    return;
  }
  std::string first = command.out.empty() ? "" : command.out.front();
  switch (question.kind) {
    case Question::Kind::kScript: {
      bool checked = false;
      for (const std::string& line : command.out) {
        if (line == kChecked) {
          checked = true;
        } else if (!line.empty()) {
          problem(line);
        }
      }
      if (!checked) problem(command.what + " ended early: " + TellingLine(command.err));
      return;
    }
    case Question::Kind::kPreflight: {
      JsonLine answer;
      Status status = JsonLine::Parse(first, &answer);
      if (status.ok() && answer.String("preflight") != "ok") {
        status = Status(Code::kProtocol, "unexpected answer: " + first.substr(0, 200));
      }
      if (status.ok()) status = CheckProtocol(answer.Count("protocol"));
      if (!status.ok()) problem(command.what + ": " + status.message());
      return;
    }
  }
}

// Questions asked at once, and their answers judged together.
class Round {
 public:
  explicit Round(Hosts* hosts) : hosts_(hosts) {}

  // One of our programs, its argv built by Hosts::Command.
  void AskOurs(const HostPath& host, const std::string& label, Question::Kind kind,
               const std::string& program, const std::vector<std::string>& args) {
    questions_.push_back(Question{label, kind});
    commands_.push_back(
        StartCommand(hosts_->Command(host, program, args), program + " on " + HostName(host)));
  }
  void AskScript(const HostPath& host, const std::string& label, const std::string& script,
                 const std::vector<std::string>& args) {
    std::vector<std::string> argv{"sh", "-c", script, "sh"};
    argv.insert(argv.end(), args.begin(), args.end());
    questions_.push_back(Question{label, Question::Kind::kScript});
    commands_.push_back(StartOnHost(hosts_, host, argv, "the checks on " + HostName(host)));
  }

  void Judge(cli::Process::Clock::time_point deadline, bool verbose,
             std::vector<std::string>* problems) {
    WaitForAll(&commands_, deadline, nullptr, verbose);
    for (size_t i = 0; i < commands_.size(); ++i) {
      orchestrator::Judge(questions_[i], commands_[i], problems);
    }
  }

 private:
  Hosts* hosts_;
  std::vector<Question> questions_;
  std::vector<HostCommand> commands_;
};

}  // namespace

void RunMariabackupPreflight(const Plan& plan, const MariabackupOptions& options, Hosts* hosts,
                             std::vector<std::string>* problems) {
  auto deadline = cli::Process::Clock::now() + kPreflightDeadline;
  // Round one, every host at once: the source's programs and socket; each target's programs
  // and whether DIR is empty.
  Round one(hosts);
  std::string source_label = "source " + TargetLabel(plan.source);
  // xfer-send checks the very command it will run: mariadb-backup, as the backup will start it.
  one.AskOurs(plan.source, source_label, Question::Kind::kPreflight, "xfer-send",
              {"--preflight", "--exec", plan.send_exec});
  std::vector<std::string> source_args{plan.source.path};
  if (options.stop_replica) source_args.push_back(options.mariadb);
  one.AskScript(plan.source, source_label, kCheckSource, source_args);
  for (const HostPath& target : plan.targets) {
    std::vector<std::string> target_args{target.path, options.mbstream};
    if (options.prepare) target_args.push_back(options.mariadb_backup);
    one.AskScript(target, "target " + TargetLabel(target), kCheckTarget, target_args);
  }
  one.Judge(deadline, plan.verbose, problems);
  // Round two, xfer-recv's own checks of each DIR: not beside the emptiness check, which could
  // see the staging directory it creates and removes to prove DIR takes new entries.
  Round two(hosts);
  for (const HostPath& target : plan.targets) {
    two.AskOurs(target, "target " + TargetLabel(target), Question::Kind::kPreflight, "xfer-recv",
                {"--preflight", "--", target.path});
  }
  two.Judge(deadline, plan.verbose, problems);
}

}  // namespace xfer::orchestrator
