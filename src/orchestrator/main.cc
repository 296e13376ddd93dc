// xfer: copies a file or directory from one host to one or more hosts, driving xfer-send and
// xfer-recv on them over ssh (or directly for `localhost`).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli_common.h"
#include "mariabackup_plan.h"
#include "mariabackup_preflight.h"
#include "mariabackup_run.h"
#include "plan.h"
#include "preflight.h"
#include "progress_view.h"
#include "remote.h"
#include "shell_quote.h"
#include "transfer_run.h"
#include "xfer/sender.h"

namespace {

constexpr char kProgram[] = "xfer";

// Config files, the later one winning, the command line winning over both.
std::vector<std::string> ConfigFiles() {
  std::vector<std::string> files{"/etc/xfer/xfer.conf"};
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    files.push_back(std::string(home) + "/.config/xfer/xfer.conf");
  }
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  using xfer::orchestrator::Fanout;
  xfer::orchestrator::Plan plan;
  std::vector<std::string> operands;
  std::string ssh = "ssh";
  std::string fanout = "chain";
  std::string limit_rate;
  std::string type = "tree";
  xfer::orchestrator::MariabackupOptions backup;

  CLI::App app{
      "Copy a file or directory from one host to one or more hosts: compressed, encrypted and\n"
      "verified in one pass.\n\n"
      "  xfer [options] SRC_HOST:PATH DST_HOST:DIR [DST_HOST:DIR ...]\n"
      "  xfer --type mariabackup [options] SRC_HOST:SOCKET DST_HOST:DIR [DST_HOST:DIR ...]\n\n"
      "Starts xfer-recv on every target and xfer-send on the source through ssh (batch mode, one\n"
      "shared connection per host); a host named localhost runs its side directly. Hosts are\n"
      "names, user@name, IPv4 addresses or [IPv6] addresses, and each must be reachable by that\n"
      "name from the host that sends to it. PATH arrives as DIR/basename(PATH) on every target.\n"
      "Before any data moves, every host is checked at once. Options are also read from\n"
      "/etc/xfer/xfer.conf and ~/.config/xfer/xfer.conf (key = value, the option's long name).\n\n"
      "Exit status: 0 when every target verified its copy, 1 otherwise, 2 bad command line.",
      kProgram};
  app.add_option("SOURCE TARGETS", operands, "SRC_HOST:PATH, then one or more DST_HOST:DIR")
      ->required()
      ->expected(2, 1 << 16);
  app.add_option("--type", type,
                 "tree: copy PATH; mariabackup: stream a live backup of the MariaDB server "
                 "listening on SOCKET (mariadb-backup --backup) into mbstream -x in each DIR, "
                 "which must be empty")
      ->check(CLI::IsMember({"tree", "mariabackup"}))
      ->default_val("tree");
  CLI::Option_group* backup_options = xfer::orchestrator::AddMariabackupOptions(&app, &backup);
  app.add_option("--ssh", ssh, "The ssh command and its options, e.g. \"ssh -p 2222 -i KEY\"")
      ->default_val("ssh");
  app.add_option("--bin-dir", plan.bin_dir,
                 "Where xfer-send and xfer-recv are on remote hosts (default: their PATH; for "
                 "localhost, next to xfer, then PATH)");
  app.add_option("--fanout", fanout,
                 "chain: source -> target 1 -> target 2 ..., each target forwarding what it "
                 "verified (N targets take about the time of one); parallel: the source sends to "
                 "every target at once")
      ->check(CLI::IsMember({"chain", "parallel"}))
      ->default_val("chain");
  app.add_option("--port", plan.port, "TCP port the receivers listen on (default: any free one)");
  app.add_flag("--compress,!--no-compress", plan.compress,
               "Compress (default: adaptively, only when it pays)");
  app.add_option("--level", plan.level, "Fixed zstd level, 1 to 19, instead of adapting")
      ->check(CLI::Range(1, 19));
  app.add_flag("--encrypt,!--no-encrypt", plan.encrypt,
               "Encrypt with TLS 1.3 (default); --no-encrypt sends in clear, every byte still "
               "authenticated");
  app.add_flag("--checksum", plan.checksum,
               "Also read every written file back from disk at each target and compare");
  app.add_flag("--overwrite", plan.overwrite, "Replace an existing DIR/NAME on the targets");
  app.add_flag("!--no-same-owner", plan.same_owner,
               "Do not restore owners on the targets: what is written belongs, without "
               "setuid/setgid bits, to the user xfer-recv "
               "runs as (by default owners are restored, as tar -xp --numeric-owner as root)");
  app.add_flag("!--no-devices", plan.devices,
               "Refuse block and character devices on the targets, naming the entry");
  app.add_flag("!--no-setuid", plan.setuid,
               "Clear setuid and setgid bits of what is written on the targets");
  app.add_flag("--resume", plan.resume,
               "Continue an interrupted transfer: each target keeps what it received if the "
               "transfer fails, and a later run with --resume sends only what the targets do "
               "not hold yet (checked against the source); with nothing to resume, a whole "
               "transfer");
  app.add_flag("--open-firewall", plan.open_firewall,
               "On each target, accept the sending host on the transfer's port (nftables, or "
               "iptables) for as long as the transfer lasts; needs root there");
  app.add_flag("--json", plan.json,
               "JSON-lines events on stdout (start, progress each second, each target's result, "
               "summary) instead of the terminal display");
  app.add_option("--limit-rate", limit_rate,
                 "Wire bytes per second out of the source, like 100M or 1G (powers of 1024), "
                 "so that it keeps serving while it copies; with --fanout parallel, shared by "
                 "all targets (default: no limit)");
  app.add_option("--threads", plan.threads,
                 "Threads that compress on the source and decompress on each target (default: "
                 "the idle cores)")
      ->check(CLI::Range(0, 256));
  app.add_option("--timeout", plan.timeout_s, "Seconds to wait for a host or a peer to answer")
      ->default_val(300)
      ->check(CLI::Range(1, 86400));
  app.add_option("--idle-timeout", plan.idle_timeout_s,
                 "Seconds of silence mid-transfer before a side gives up")
      ->default_val(60)
      ->check(CLI::Range(1, 86400));
  app.add_option("--stall-timeout", plan.stall_timeout_s,
                 "With --fanout parallel: seconds a target may take no data before it is dropped "
                 "and the others go on")
      ->default_val(10)
      ->check(CLI::Range(1, 86400));
  app.add_flag("-v,--verbose", plan.verbose, "Show what the programs on each host log");
  app.set_config("--config", "", "Read options from FILE as well")
      ->type_name("FILE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.set_version_flag("--version", xfer::cli::VersionLine(kProgram));

  // The default config files go in as if given with --config, when they exist and no --config
  // was given.
  std::vector<std::string> args(argv, argv + argc);
  bool config_given = false;
  for (const std::string& arg : args)
    config_given |= arg == "--config" || arg.rfind("--config=", 0) == 0;
  if (!config_given) {
    for (const std::string& file : ConfigFiles()) {
      if (access(file.c_str(), R_OK) == 0) args.insert(args.begin() + 1, {"--config", file});
    }
  }
  std::vector<char*> arg_pointers;
  for (std::string& arg : args) arg_pointers.push_back(arg.data());
  int exit_code = 0;
  if (!xfer::cli::ParseCommandLine(&app, static_cast<int>(arg_pointers.size()), arg_pointers.data(),
                                   &exit_code)) {
    return exit_code;
  }

  auto usage = [](const xfer::Status& status) {
    std::fprintf(stderr, "%s: error: %s\n", kProgram, status.message().c_str());
    return xfer::cli::kExitUsage;
  };
  plan.fanout = fanout == "parallel" ? Fanout::kParallel : Fanout::kChain;
  if (!limit_rate.empty() &&
      (!xfer::cli::ParseSize(limit_rate, &plan.limit_rate) || plan.limit_rate == 0)) {
    return usage(xfer::Status(xfer::Code::kInvalidArgument,
                              "--limit-rate: '" + limit_rate + "' is not a rate like 100M"));
  }
  if (plan.limit_rate > 0) {
    // xfer-send would refuse it too, but only once every receiver is waiting for it.
    size_t receivers = plan.fanout == Fanout::kParallel ? operands.size() - 1 : 1;
    xfer::Status rate = xfer::CheckLimitRate(plan.limit_rate, xfer::SendOptions().chunk_size,
                                             receivers, std::chrono::seconds(plan.idle_timeout_s));
    if (!rate.ok()) return usage(rate.WithContext("--limit-rate"));
  }
  xfer::Status status = xfer::orchestrator::ParseHostPath(operands[0], &plan.source);
  if (!status.ok()) return usage(status);
  for (size_t i = 1; i < operands.size(); ++i) {
    xfer::orchestrator::HostPath target;
    status = xfer::orchestrator::ParseHostPath(operands[i], &target);
    if (!status.ok()) return usage(status);
    plan.targets.push_back(target);
  }
  bool mariabackup = type == "mariabackup";
  status = mariabackup ? xfer::orchestrator::ConfigureMariabackup(backup, &plan)
                       : xfer::orchestrator::RefuseMariabackupOptions(*backup_options);
  if (!status.ok()) return usage(status);
  status = xfer::cli::SplitCommandWords(ssh, &plan.ssh_command);
  if (status.ok() && plan.ssh_command.empty()) {
    status = xfer::Status(xfer::Code::kInvalidArgument, "--ssh: empty command");
  }
  if (!status.ok()) return usage(status);

  xfer::CancelToken cancel;
  xfer::cli::CancelOnSignals(&cancel);
  std::unique_ptr<xfer::orchestrator::Hosts> hosts;
  status = xfer::orchestrator::Hosts::Create(plan.ssh_command, plan.bin_dir, &hosts);
  if (!status.ok()) return xfer::cli::ReportError(kProgram, status);

  auto started = std::chrono::steady_clock::now();
  xfer::orchestrator::SourceFacts facts;
  std::vector<std::string> problems;
  if (mariabackup) {
    xfer::orchestrator::RunMariabackupPreflight(plan, backup, hosts.get(), &problems);
  } else {
    xfer::orchestrator::RunPreflight(plan, hosts.get(), &facts, &problems);
  }
  if (!problems.empty()) {
    for (const std::string& problem : problems) {
      std::fprintf(stderr, "%s: error: %s\n", kProgram, problem.c_str());
    }
    std::fprintf(stderr, "%s: pre-flight failed; nothing was transferred\n", kProgram);
    return xfer::cli::kExitFailed;
  }

  using Mode = xfer::orchestrator::ProgressView::Mode;
  xfer::orchestrator::ProgressView view(plan.json               ? Mode::kJson
                                        : isatty(STDERR_FILENO) ? Mode::kTerminal
                                                                : Mode::kQuiet);
  std::vector<xfer::orchestrator::TargetState> targets;
  for (const auto& target : plan.targets) {
    xfer::orchestrator::TargetState state;
    state.label = xfer::orchestrator::TargetLabel(target);
    targets.push_back(state);
  }
  view.Start(xfer::orchestrator::TargetLabel(plan.source), facts, targets, fanout);
  xfer::Status source_status;  // beyond the targets' verdicts: STOP/START REPLICA
  if (mariabackup) {
    source_status = xfer::orchestrator::RunMariabackup(plan, backup, facts, hosts.get(), &view,
                                                       cancel, &targets);
  } else {
    xfer::orchestrator::RunTransfer(plan, facts, hosts.get(), &view, cancel, &targets);
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  size_t verified = view.Summary(targets, seconds);
  if (!source_status.ok()) {
    std::fprintf(stderr, "%s: error: %s\n", kProgram, source_status.message().c_str());
  }
  return verified == targets.size() && source_status.ok() ? xfer::cli::kExitOk
                                                          : xfer::cli::kExitFailed;
}
