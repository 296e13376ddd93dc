#include "transfer_run.h"

#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "chain_relink.h"
#include "host_command.h"
#include "json_line.h"
#include "process.h"
#include "stream_digest_check.h"
#include "xfer/report.h"

namespace xfer::orchestrator {

namespace {

using Clock = cli::Process::Clock;

constexpr auto kTick = std::chrono::seconds(1);
// After a cancel, how long the programs get to clean up (staging directories, firewall rules)
// before they are killed.
constexpr auto kCleanupGrace = std::chrono::seconds(15);
// How long, beyond its idle timeout, a receiver that gave up on a silent upstream gets to record
// what it kept and say so before xfer takes its silence for a cut-off link.
constexpr auto kReportGrace = std::chrono::seconds(10);

// One program `xfer` started, and what it said.
struct Running {
  std::unique_ptr<cli::Process> process;
  int target = -1;            // index into the targets, or -1 for the sender
  size_t position = 0;        // its place in this pass's chain
  bool reached = false;       // a receiver that printed a line: its sender reached it
  bool reported = false;      // printed its result line
  std::string stream_digest;  // from its result line
  // From a failed receiver's line saying what it kept: why it failed, and whether it was
  // interrupted (the kept bytes go into its TargetState).
  std::string kept_error;
  bool kept_interrupted = false;
  std::string error_code;                      // from its {"event":"error"} line
  Clock::time_point last_word = Clock::now();  // its last line on stdout or stderr
  bool lost = false;     // stopped by us after no word from it: its host is cut off
  bool stopped = false;  // sent a signal by us for another reason (cancel, the sender failed)
  // What an --exec command said on stderr (the lines not the program's own), the last few: its
  // reason, when it fails, is there.
  std::vector<std::string> command_err;
};

constexpr size_t kCommandErrLines = 20;

std::vector<std::string> CommonArgs(const Plan& plan) {
  // --lifeline: if this xfer or its ssh connection dies, the programs it started stop too.
  std::vector<std::string> args{"--json",         "--lifeline",
                                "--timeout",      std::to_string(plan.timeout_s),
                                "--idle-timeout", std::to_string(plan.idle_timeout_s)};
  if (plan.threads > 0) args.insert(args.end(), {"--threads", std::to_string(plan.threads)});
  if (!plan.resume) args.push_back("--no-resume");
  if (plan.verbose) args.push_back("--verbose");
  return args;
}

std::vector<std::string> ReceiverArgs(const Plan& plan, size_t i) {
  std::vector<std::string> args = CommonArgs(plan);
  if (!plan.encrypt) args.push_back("--no-encrypt");
  if (plan.overwrite) args.push_back("--overwrite");
  if (plan.checksum) args.push_back("--checksum");
  if (!plan.same_owner) args.push_back("--no-same-owner");
  if (!plan.devices) args.push_back("--no-devices");
  if (!plan.setuid) args.push_back("--no-setuid");
  if (plan.port != 0) args.insert(args.end(), {"--port", std::to_string(plan.port)});
  bool chain = plan.fanout == Fanout::kChain;
  if (chain && i + 1 < plan.targets.size()) {
    args.insert(args.end(), {"--forward", plan.targets[i + 1].host});
  }
  if (plan.open_firewall) {
    const HostPath& sender = chain && i > 0 ? plan.targets[i - 1] : plan.source;
    args.insert(args.end(), {"--open-firewall-for", sender.host});
  }
  if (!plan.recv_exec.empty()) args.insert(args.end(), {"--exec", plan.recv_exec});
  args.insert(args.end(), {"--", plan.targets[i].path});
  return args;
}

std::vector<std::string> SenderArgs(const Plan& plan) {
  std::vector<std::string> args = CommonArgs(plan);
  if (!plan.compress) {
    args.push_back("--no-compress");
  } else if (plan.level > 0) {
    args.insert(args.end(), {"--level", std::to_string(plan.level)});
  }
  if (plan.limit_rate > 0) {
    args.insert(args.end(), {"--limit-rate", std::to_string(plan.limit_rate)});
  }
  size_t destinations = plan.fanout == Fanout::kChain ? 1 : plan.targets.size();
  if (destinations > 1) {
    args.insert(args.end(), {"--stall-timeout", std::to_string(plan.stall_timeout_s)});
  }
  for (size_t i = 0; i < destinations; ++i) {
    args.insert(args.end(), {"--to", plan.targets[i].host});
  }
  if (!plan.send_exec.empty()) {
    args.insert(args.end(), {"--exec", plan.send_exec});  // its stdout instead of paths
  } else {
    args.insert(args.end(), {"--", plan.source.path});
  }
  return args;
}

// What a failed target that kept data says: how much, where, and to run the command again.
std::string TargetKeptVerdict(const Plan& plan, const Running& receiver, const CancelToken& cancel,
                              const TargetState& target) {
  bool interrupted = cancel.IsCancelled() || receiver.kept_interrupted;
  Status failure(interrupted ? Code::kCancelled : Code::kPeerFailed, target.error);
  return xfer::KeptVerdict(failure, target.kept_bytes,
                           TargetLabel(plan.targets[static_cast<size_t>(receiver.target)]));
}

bool IsTicket(const std::string& line) { return line.rfind("xfer1:", 0) == 0; }

// Starts the receivers and the sender. False (with every target marked failed) if one of them
// could not start: then nothing was sent.
bool StartAll(const Plan& plan, const std::vector<size_t>& members, Hosts* hosts,
              std::vector<Running>* running, std::vector<TargetState>* targets) {
  size_t count = plan.targets.size();
  bool chain = plan.fanout == Fanout::kChain;
  std::vector<std::string> tickets(count);
  auto fail = [&](size_t i, const std::string& why) {
    for (size_t j = 0; j < count; ++j) {
      TargetState& target = (*targets)[members[j]];
      target.finished = true;
      target.error =
          j == i ? why : "not started: " + TargetLabel(plan.targets[i]) + " failed to start";
    }
    return false;
  };
  auto deadline = Clock::now() + std::chrono::seconds(plan.timeout_s);
  // A chain starts at its end: each receiver needs its downstream's ticket before it listens.
  for (size_t step = 0; step < count; ++step) {
    size_t i = chain ? count - 1 - step : step;
    const HostPath& target = plan.targets[i];
    Running receiver;
    receiver.target = static_cast<int>(members[i]);
    receiver.position = i;
    // Each in a group of its own: a Ctrl-C reaches xfer alone, which stops them by their
    // lifeline, so that they can still say through ssh what they kept.
    Status status = cli::Process::Start(hosts->Command(target, "xfer-recv", ReceiverArgs(plan, i)),
                                        "xfer-recv on " + HostName(target), &receiver.process,
                                        /*own_group=*/true);
    if (status.ok() && chain && i + 1 < count) {
      status = receiver.process->WriteStdin(tickets[i + 1] + "\n");
    }
    if (status.ok()) status = receiver.process->ReadLine(deadline, &tickets[i]);
    if (status.ok() && !IsTicket(tickets[i])) {
      status = Status(Code::kProtocol, "xfer-recv on " + HostName(target) +
                                           " printed no ticket: " + tickets[i].substr(0, 100));
    }
    if (!status.ok()) return fail(i, status.message());
    running->push_back(std::move(receiver));
  }
  Running sender;
  Status status = cli::Process::Start(hosts->Command(plan.source, "xfer-send", SenderArgs(plan)),
                                      "xfer-send on " + HostName(plan.source), &sender.process,
                                      /*own_group=*/true);
  for (size_t i = 0; status.ok() && i < (chain ? 1 : count); ++i) {
    status = sender.process->WriteStdin(tickets[i] + "\n");
  }
  if (!status.ok()) return fail(0, status.message());
  running->push_back(std::move(sender));
  return true;
}

void HandleOutput(const Plan& plan, Running* running, const std::vector<std::string>& out,
                  const std::vector<std::string>& err, std::vector<TargetState>* targets) {
  if (!out.empty() || !err.empty()) running->last_word = Clock::now();
  for (const std::string& line : err) {
    if (plan.verbose)
      std::fprintf(stderr, "xfer: %s: %s\n", running->process->name().c_str(), line.c_str());
    if (!plan.send_exec.empty() && line.rfind("xfer-send: ", 0) != 0 &&
        line.rfind("xfer-recv: ", 0) != 0) {
      running->command_err.push_back(line);
      if (running->command_err.size() > kCommandErrLines) {
        running->command_err.erase(running->command_err.begin());
      }
    }
  }
  for (const std::string& line : out) {
    JsonLine json;
    if (!JsonLine::Parse(line, &json).ok()) continue;
    if (json.String("event") == "error") {
      running->error_code = json.String("code");
      if (json.Has("kept_bytes") && running->target >= 0) {
        (*targets)[static_cast<size_t>(running->target)].kept_bytes = json.Count("kept_bytes");
        running->kept_error = json.String("error");
        running->kept_interrupted = json.Bool("interrupted");
      }
      continue;
    }
    bool progress = json.String("event") == "progress";
    if (!progress && !json.Has("stream_digest")) continue;
    running->reached = true;  // xfer-recv reports at once when it accepted its sender
    running->reported = running->reported || !progress;
    if (!progress) running->stream_digest = json.String("stream_digest");
    if (running->target < 0) continue;
    TargetState& target = (*targets)[static_cast<size_t>(running->target)];
    target.bytes = json.Count("bytes");
    if (progress) target.total_bytes = json.Count("total_bytes");
    target.wire_bytes = json.Count("wire_bytes");
    if (!progress) target.resumed_bytes = json.Count("resumed_bytes");
    if (!progress) target.discarded_bytes = json.Count("discarded_bytes");
    target.seconds = json.Number("seconds");
  }
}

// Notes that r is being stopped by us, for a reason that is not its own (unless it had ended).
void MarkStopped(Running* r) { r->stopped = r->stopped || !r->process->OutputEnded(); }

// Stops r with `signal`, for a reason that is not its own.
void Stop(Running* r, int signal) {
  MarkStopped(r);
  r->process->Kill(signal);
}

// A receiver that ended without a result line and not because we stopped it: killed, or its
// ssh connection or its host went away.
bool Died(const Running& r, const HostPath& host) {
  if (r.reported) return false;
  if (r.lost) return true;
  int code = r.process->exit_code();
  return !r.stopped && ((code == 255 && !host.local) || (code > 128 && code < 255));
}

std::string DeathReason(const Plan& plan, const Running& r, const HostPath& host) {
  if (r.lost) {
    return "lost contact: no word from " + HostName(host) + " for " +
           std::to_string(plan.idle_timeout_s + kReportGrace.count()) + " s";
  }
  int code = r.process->exit_code();
  if (code == 255) {
    return "xfer-recv ended without a result: killed, or the ssh connection to " + HostName(host) +
           " was lost (ssh exit status 255)";
  }
  return "xfer-recv was killed (signal " + std::to_string(code - 128) + ")";
}

// One pass: the plan's targets (members[i] being plan.targets[i]'s index in *targets) fed by
// one sender. Fills those targets' states and *hops (in chain order); true if the sender ended
// well.
bool RunPass(const Plan& plan, const std::vector<size_t>& members, Hosts* hosts, ProgressView* view,
             const CancelToken& cancel, std::vector<TargetState>* targets,
             std::vector<HopEnd>* hops) {
  std::vector<Running> running;
  if (!StartAll(plan, members, hosts, &running, targets)) return false;

  Running& sender = running.back();
  auto next_tick = Clock::now() + kTick;
  std::optional<Clock::time_point> kill_at;  // set once we asked everyone to stop
  bool sender_failed = false;
  std::optional<Clock::time_point> sender_ended;
  std::optional<Clock::time_point> stop_at;  // when receivers left waiting are stopped
  bool killed = false;                       // SIGKILL went out
  bool cutting_off = false;                  // kill_at was set for receivers found cut off
  auto idle = std::chrono::seconds(plan.idle_timeout_s);
  while (true) {
    std::vector<pollfd> fds;
    // Once everyone was asked to stop, the token stays cancelled: polling it would spin.
    if (!kill_at) fds.push_back(pollfd{cancel.fd(), POLLIN, 0});
    size_t own = fds.size();
    for (const Running& r : running) r.process->AddPollFds(&fds);
    if (fds.size() == own) break;  // every program closed its output: they are done
    // Killed, and still an output open: a command one of them started holds it. Done waiting.
    if (killed) break;
    auto wake = next_tick;
    if (stop_at && !kill_at) wake = std::min(wake, *stop_at);
    if (kill_at) wake = std::min(wake, *kill_at);
    int wait_ms = static_cast<int>(std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(wake - Clock::now()).count()));
    poll(fds.data(), fds.size(), wait_ms);
    for (Running& r : running) {
      std::vector<std::string> out, err;
      r.process->Pump(&out, &err);
      HandleOutput(plan, &r, out, err, targets);
    }
    if (Clock::now() >= next_tick) {
      view->Tick(*targets);
      next_tick = Clock::now() + kTick;
    }
    if (!sender_ended && sender.process->OutputEnded() && sender.process->Wait(Clock::now())) {
      sender_ended = Clock::now();
    }
    // Once the sender ended, a receiver still running has heard all it will hear from upstream:
    // it ends by itself within an idle timeout (committing, or giving up on a silent upstream).
    // One that says nothing for that long, after the sender ended, is cut off (its link is down:
    // its ssh connection hangs with it). One that was never reached lost its upstream.
    // A receiver behind a cut-off hop goes silent too, but gives up on its upstream after its
    // own idle timeout and says so: only one still silent kReportGrace later is cut off, and
    // every such one is, not only the first found.
    for (Running& r : running) {
      if (!sender_ended || (kill_at && !cutting_off) || r.target < 0 || r.reported || r.lost ||
          r.process->OutputEnded()) {
        continue;
      }
      if (Clock::now() - std::max(r.last_word, *sender_ended) < idle + kReportGrace) continue;
      r.lost = r.reached;
      Stop(&r, SIGTERM);
      // Its output may never end: through a shared ssh connection, the master holds it open.
      if (!kill_at) kill_at = Clock::now() + kCleanupGrace;
      cutting_off = true;
    }
    // Every receiver ended and the sender still runs (stopped, or stuck on a silent command):
    // nothing it could do now reaches a target. It gets kReportGrace to end by itself.
    bool receivers_ended = std::all_of(running.begin(), running.end(), [](const Running& r) {
      return r.target < 0 || r.process->OutputEnded();
    });
    if (receivers_ended && !sender_ended && !stop_at) stop_at = Clock::now() + kReportGrace;
    // The sender waits for the verdict of every receiver it streams to, and a receiver it gave
    // up on sees its connection close. So once the sender has failed, nothing will come any more:
    // a receiver it never reached (no line yet) is stopped at once, rather than waiting out its
    // --timeout; one it reached ends by itself, or is stopped after an idle timeout (and
    // kReportGrace).
    if (!sender_failed && sender_ended && sender.process->exit_code() != 0) {
      sender_failed = true;
      stop_at = Clock::now() + idle + kReportGrace;
      for (Running& r : running) {
        if (r.target >= 0 && !r.reached) Stop(&r, SIGTERM);
      }
    }
    if (stop_at && Clock::now() >= *stop_at && !kill_at) {
      for (Running& r : running) Stop(&r, SIGTERM);
      kill_at = Clock::now() + kCleanupGrace;
    }
    if (cancel.IsCancelled() && !kill_at) {
      // Their stdin ends (--lifeline): they cancel, keep what they can resume from, say so on
      // their output (which ssh still carries, unlike after a signal to ssh), and exit.
      for (Running& r : running) {
        MarkStopped(&r);
        r.process->CloseStdin();
      }
      kill_at = Clock::now() + kCleanupGrace;
    }
    if (kill_at && Clock::now() >= *kill_at) {
      for (Running& r : running) Stop(&r, SIGKILL);
      killed = true;
    }
  }
  for (Running& r : running) {
    r.process->CloseStdin();
    if (!r.process->Wait(Clock::now() + kCleanupGrace)) {
      Stop(&r, SIGKILL);
      r.process->Wait(Clock::now() + kCleanupGrace);
    }
  }
  hops->assign(members.size(), HopEnd{});
  for (Running& r : running) {
    if (r.target < 0) continue;
    TargetState& target = (*targets)[static_cast<size_t>(r.target)];
    const HostPath& host = plan.targets[r.position];
    bool died = Died(r, host);
    target.finished = true;
    target.ok = r.reported && r.process->exit_code() == 0;
    if (!target.ok) {
      // A receiver that kept data names its staging directory in its error line; its result
      // line has the reason alone, and xfer names HOST:PATH instead.
      std::string said_why = r.kept_error.empty() ? r.process->ErrorMessage() : r.kept_error;
      target.error = cancel.IsCancelled() ? "cancelled"
                     : died               ? DeathReason(plan, r, host)
                                          : said_why;
      // A receiver stopped because the sender failed says only that it was stopped; the
      // sender's message says why.
      if (sender_failed && (kill_at || !r.reached) && !r.reported && !r.lost &&
          !cancel.IsCancelled()) {
        target.error = "the sender failed: " + sender.process->ErrorMessage();
      }
      if (!r.reached && !died && !sender_failed && !cancel.IsCancelled()) {
        target.error = "its upstream never reached it";
      }
      // An --exec command's exit status alone does not say why: add what it said.
      bool from_sender = sender.process->exit_code() != 0;
      std::string said = TellingLine(from_sender ? sender.command_err : r.command_err);
      if (!said.empty() && target.error.find(said) == std::string::npos) {
        target.error += " (" + said + ")";
      }
      if (target.kept_bytes > 0) target.error = TargetKeptVerdict(plan, r, cancel, target);
    }
    if (target.ok) {
      Status same = CheckStreamDigest(sender.stream_digest, r.stream_digest);
      target.ok = same.ok();
      target.error = same.message();
    }
    (*hops)[r.position] = HopEnd{static_cast<size_t>(r.target), target.ok, died, r.error_code};
  }
  return sender.process->exit_code() == 0 || plan.fanout == Fanout::kParallel;
}

}  // namespace

void RunTransfer(const Plan& plan, const SourceFacts& facts, Hosts* hosts, ProgressView* view,
                 const CancelToken& cancel, std::vector<TargetState>* targets) {
  targets->clear();
  std::vector<size_t> members;
  for (const HostPath& target : plan.targets) {
    TargetState state;
    state.label = TargetLabel(target);
    state.total_bytes = facts.bytes;
    members.push_back(targets->size());
    targets->push_back(state);
  }
  Plan pass = plan;
  // One re-link pass per dead hop at most: each pass leaves out at least one target.
  for (size_t passes = 0; !members.empty() && passes < plan.targets.size(); ++passes) {
    pass.targets.clear();
    for (size_t i : members) pass.targets.push_back(plan.targets[i]);
    std::vector<HopEnd> hops;
    bool sender_ok = RunPass(pass, members, hosts, view, cancel, targets, &hops);
    if (plan.fanout != Fanout::kChain || cancel.IsCancelled()) break;
    std::vector<size_t> again = TargetsToRelink(hops, sender_ok);
    std::string around;  // the hops this pass lost
    for (const HopEnd& hop : hops) {
      bool relinked = std::find(again.begin(), again.end(), hop.target) != again.end();
      if (!hop.ok && !relinked)
        around += (around.empty() ? "" : ", ") + (*targets)[hop.target].label;
    }
    for (size_t i : again) {
      TargetState& target = (*targets)[i];
      target.relinked_around += (target.relinked_around.empty() ? "" : ", ") + around;
      target.finished = false;
      target.error.clear();
    }
    members = std::move(again);
    // The targets fed again hold a journal of what they verified: they resume from it.
    pass.resume = true;
  }
  for (const TargetState& target : *targets) view->Result(target);
}

}  // namespace xfer::orchestrator
