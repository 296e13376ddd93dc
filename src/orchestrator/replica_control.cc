#include "replica_control.h"

#include <cstdio>
#include <vector>

#include "host_command.h"

namespace xfer::orchestrator {

ReplicaPause::ReplicaPause(Hosts* hosts, const HostPath& source, const MariabackupOptions& options,
                           std::chrono::seconds timeout, bool verbose, ProgressView* view)
    : hosts_(hosts),
      source_(source),
      options_(options),
      timeout_(timeout),
      verbose_(verbose),
      view_(view) {}

ReplicaPause::~ReplicaPause() {
  Status status = Start();
  if (!status.ok()) std::fprintf(stderr, "xfer: error: %s\n", status.message().c_str());
}

Status ReplicaPause::Stop() {
  stop_sent_ = true;
  return Run("STOP REPLICA", "stop_replica");
}

Status ReplicaPause::Start() {
  if (!stop_sent_ || started_) return Status::Ok();
  started_ = true;
  Status status = Run("START REPLICA", "start_replica");
  if (status.ok()) return status;
  return Status(status.code(), status.message() + " (the replica on " + HostName(source_) +
                                   " may still be stopped: run START REPLICA there)");
}

Status ReplicaPause::Run(const std::string& statement, const std::string& step) {
  auto started = cli::Process::Clock::now();
  std::vector<HostCommand> commands;
  commands.push_back(StartOnHost(hosts_, source_, ClientCommand(options_, source_.path, statement),
                                 statement + " on " + HostName(source_)));
  // No cancel token: a START REPLICA after a Ctrl-C must still run to its end.
  WaitForAll(&commands, started + timeout_, nullptr, verbose_);
  Status status = Outcome(commands[0]);
  double seconds = std::chrono::duration<double>(cli::Process::Clock::now() - started).count();
  if (view_ != nullptr) view_->StepResult(step, TargetLabel(source_), status, seconds);
  return status;
}

}  // namespace xfer::orchestrator
