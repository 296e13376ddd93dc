#include "preflight.h"

#include <signal.h>

#include <memory>

#include "json_line.h"
#include "process.h"
#include "xfer/version.h"

namespace xfer::orchestrator {

namespace {

// A host that does not answer pre-flight within this long is reported unreachable; ssh's own
// connect timeout is shorter.
constexpr auto kPreflightDeadline = std::chrono::seconds(60);

// One pre-flight question to one host.
struct Question {
  std::string host_label;  // how problems name the host
  std::unique_ptr<cli::Process> process;
  Status started;
};

// Its answer: the JSON line, or the problem as one line.
Status Answer(Question* question, cli::Process::Clock::time_point deadline, JsonLine* answer) {
  if (!question->started.ok()) return question->started;
  std::string line;
  Status status = question->process->ReadLine(deadline, &line);
  if (status.ok()) status = JsonLine::Parse(line, answer);
  if (status.ok() && answer->String("preflight") != "ok") {
    status = Status(Code::kProtocol, "unexpected answer: " + line.substr(0, 200));
  }
  if (status.ok() && answer->Count("protocol") != kProtocolVersion) {
    status =
        Status(Code::kProtocol, "speaks protocol " + std::to_string(answer->Count("protocol")) +
                                    ", this xfer speaks " + std::to_string(kProtocolVersion) +
                                    " (install the same version everywhere)");
  }
  question->process->CloseStdin();
  if (!question->process->Wait(deadline)) question->process->Kill(SIGKILL);
  return status;
}

}  // namespace

std::string HostName(const HostPath& host) { return host.local ? "localhost" : host.ssh_target; }

std::string TargetLabel(const HostPath& target) { return HostName(target) + ":" + target.path; }

Status TopNameOf(const std::string& path, std::string* name) {
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  size_t slash = trimmed.rfind('/');
  std::string last = slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
  if (last.empty() || last == "." || last == "..") {
    return Status(Code::kInvalidArgument,
                  "source path '" + path + "' must end in a name (not '/', '.' or '..')");
  }
  *name = last;
  return Status::Ok();
}

namespace {

// Starts `xfer-recv --preflight` on every target at once; `extra` adds the space question.
std::vector<Question> AskTargets(const Plan& plan, Hosts* hosts, const std::string& name,
                                 const std::vector<std::string>& extra) {
  std::vector<Question> questions(plan.targets.size());
  for (size_t i = 0; i < plan.targets.size(); ++i) {
    const HostPath& target = plan.targets[i];
    std::vector<std::string> args{"--preflight", "--name", name};
    if (plan.overwrite) args.push_back("--overwrite");
    // What an interrupted run left is counted in, unless it is to be discarded.
    if (!plan.resume) args.push_back("--no-resume");
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--", target.path});
    questions[i].host_label = "target " + TargetLabel(target);
    questions[i].started =
        cli::Process::Start(hosts->Command(target, "xfer-recv", args),
                            "xfer-recv on " + HostName(target), &questions[i].process);
  }
  return questions;
}

// Collects the answers; each failure becomes one problem line. False if any failed.
bool Collect(std::vector<Question>* questions, std::vector<JsonLine>* answers,
             std::vector<std::string>* problems) {
  auto deadline = cli::Process::Clock::now() + kPreflightDeadline;
  answers->assign(questions->size(), JsonLine());
  bool all_ok = true;
  for (size_t i = 0; i < questions->size(); ++i) {
    Status status = Answer(&(*questions)[i], deadline, &(*answers)[i]);
    if (!status.ok()) {
      problems->push_back((*questions)[i].host_label + ": " + status.message());
      all_ok = false;
    }
  }
  return all_ok;
}

}  // namespace

void RunPreflight(const Plan& plan, Hosts* hosts, SourceFacts* facts,
                  std::vector<std::string>* problems) {
  Status named = TopNameOf(plan.source.path, &facts->name);
  if (!named.ok()) {
    problems->push_back(named.message());
    return;
  }
  // Round one, every host at once: the source surveyed; each target reachable, with our
  // programs, its directory usable and the name free.
  std::vector<Question> questions = AskTargets(plan, hosts, facts->name, {});
  Question source;
  source.host_label = "source " + TargetLabel(plan.source);
  source.started = cli::Process::Start(
      hosts->Command(plan.source, "xfer-send", {"--preflight", "--", plan.source.path}),
      "xfer-send on " + HostName(plan.source), &source.process);
  questions.insert(questions.begin(), std::move(source));
  std::vector<JsonLine> answers;
  if (!Collect(&questions, &answers, problems)) return;
  facts->entries = answers[0].Count("entries");
  facts->files = answers[0].Count("files");
  facts->bytes = answers[0].Count("bytes");
  facts->allocated_bytes = answers[0].Count("allocated_bytes");
  // Round two, now that the size is known: room on every target, by the receiver's own rule.
  questions = AskTargets(plan, hosts, facts->name,
                         {"--need", std::to_string(facts->allocated_bytes), "--entries",
                          std::to_string(facts->entries)});
  Collect(&questions, &answers, problems);
}

}  // namespace xfer::orchestrator
