#include "mariabackup_run.h"

#include <chrono>
#include <optional>
#include <string>

#include "host_command.h"
#include "replica_control.h"
#include "transfer_run.h"

namespace xfer::orchestrator {

namespace {

using Clock = cli::Process::Clock;

// Applying the redo log of a long backup of a big, busy server can take hours; Ctrl-C (or
// SIGTERM) stops it sooner.
constexpr auto kPrepareDeadline = std::chrono::hours(12);

// Every target not transferred, failed with `why`.
void FailAll(const Plan& plan, const std::string& why, ProgressView* view,
             std::vector<TargetState>* targets) {
  targets->clear();
  for (const HostPath& target : plan.targets) {
    TargetState state;
    state.label = TargetLabel(target);
    state.finished = true;
    state.error = why;
    view->Result(state);
    targets->push_back(state);
  }
}

// mariadb-backup --prepare on every target that verified, at once.
void PrepareTargets(const Plan& plan, const MariabackupOptions& options, Hosts* hosts,
                    ProgressView* view, const CancelToken& cancel,
                    std::vector<TargetState>* targets) {
  std::vector<HostCommand> commands;
  std::vector<size_t> which;
  auto started = Clock::now();
  for (size_t i = 0; i < plan.targets.size(); ++i) {
    if (!(*targets)[i].ok) continue;
    const HostPath& target = plan.targets[i];
    commands.push_back(StartOnHost(hosts, target, PrepareCommand(options, target.path),
                                   "mariadb-backup --prepare on " + HostName(target)));
    which.push_back(i);
  }
  WaitForAll(&commands, started + kPrepareDeadline, &cancel, plan.verbose);
  double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  for (size_t k = 0; k < commands.size(); ++k) {
    TargetState& target = (*targets)[which[k]];
    Status status = Outcome(commands[k]);
    if (!status.ok() && cancel.IsCancelled()) status = Status(Code::kCancelled, "cancelled");
    view->StepResult("prepare", target.label, status, seconds);
    if (status.ok()) continue;
    target.ok = false;
    target.error = "verified, but the prepare failed: " + status.message() + " (" +
                   plan.targets[which[k]].path + " holds the backup, not prepared)";
  }
}

}  // namespace

Status RunMariabackup(const Plan& plan, const MariabackupOptions& options, const SourceFacts& facts,
                      Hosts* hosts, ProgressView* view, const CancelToken& cancel,
                      std::vector<TargetState>* targets) {
  std::optional<ReplicaPause> replica;
  if (options.stop_replica) {
    replica.emplace(hosts, plan.source, options, std::chrono::seconds(plan.timeout_s), plan.verbose,
                    view);
    Status stopped = replica->Stop();
    if (!stopped.ok()) {
      Status restarted = replica->Start();
      FailAll(plan, "not transferred: STOP REPLICA failed on the source", view, targets);
      if (restarted.ok()) return stopped;
      return Status(stopped.code(), stopped.message() + "; " + restarted.message());
    }
  }
  RunTransfer(plan, facts, hosts, view, cancel, targets);
  Status restarted = replica ? replica->Start() : Status::Ok();
  if (options.prepare && !cancel.IsCancelled()) {
    PrepareTargets(plan, options, hosts, view, cancel, targets);
  }
  return restarted;
}

}  // namespace xfer::orchestrator
