#include "transfer_run.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include "program_paths.h"
#include "transfer_harness.h"
#include "xfer/ticket.h"

namespace xfer::testing {

namespace {

using Then = TcpProxy::Decision::Then;

// Waits for p with the deadline; a process that outlives it is killed (and reaped) but still
// reported as -1, so the test can say it hung.
int WaitOrKill(ChildProcess& p) {
  int code = p.Wait(kExitDeadline);
  if (code == -1) {
    p.Kill(SIGKILL);
    p.Wait(std::chrono::seconds(10));
  }
  return code;
}

std::vector<std::string> CommonArgs(const char* program) {
  std::string seconds = std::to_string(kXferTimeoutSeconds);
  return {program, "--timeout", seconds, "--idle-timeout", seconds};
}

}  // namespace

void RunParties::SetSender(ChildProcess* sender) {
  sender_.store(sender);
  sender_.notify_all();
}

void RunParties::SetReceiver(ChildProcess* receiver) {
  receiver_.store(receiver);
  receiver_.notify_all();
}

void RunParties::Signal(std::atomic<ChildProcess*>* who, int signal) {
  // RunTransfer stores each pointer before that process can reach the proxy; waiting for the
  // store only makes the ordering explicit.
  who->wait(nullptr);
  who->load()->Kill(signal);
}

RunOutcome RunTransfer(const RunSpec& spec) {
  RunOutcome out;
  RunParties parties;
  std::vector<std::string> receiver_argv = CommonArgs(XferRecvPath());
  receiver_argv.insert(receiver_argv.end(), {"--listen", "127.0.0.1"});
  if (spec.plain) receiver_argv.push_back("--no-encrypt");
  receiver_argv.insert(receiver_argv.end(), spec.receiver_args.begin(), spec.receiver_args.end());
  receiver_argv.push_back(spec.dest);

  // Declared before the proxy, so that the proxy's threads (which may signal them) end first.
  auto receiver = std::make_unique<ChildProcess>(receiver_argv);
  parties.SetReceiver(receiver.get());
  std::unique_ptr<ChildProcess> sender;
  std::unique_ptr<TcpProxy> proxy;
  out.ticket = receiver->ReadStdoutLine(std::chrono::seconds(30));
  Ticket ticket;
  if (Ticket::Parse(out.ticket, &ticket).ok()) {
    TcpProxy::Hooks hooks;
    hooks.socket_buffer_bytes = spec.proxy_buffer_bytes;
    // Runs on the proxy's thread; `out` is read only after the proxy joined it.
    hooks.upstream = [&](uint64_t offset, uint8_t* data, size_t len) {
      TcpProxy::Decision decision;
      if (spec.action && !out.fault_injected) {
        if (offset < spec.fault_offset && spec.fault_offset < offset + len) {
          decision.forward = spec.fault_offset - offset;  // the rest comes back at the offset
        } else if (offset == spec.fault_offset) {
          out.fault_injected = true;
          decision = spec.action(parties, data, len);
        }
      }
      size_t forwarded = std::min(decision.forward, len);
      if (forwarded == 0 && decision.then == Then::kContinue) forwarded = len;
      out.upstream_bytes = offset + forwarded;
      if (spec.record_upstream) out.upstream.append(reinterpret_cast<char*>(data), forwarded);
      return decision;
    };
    hooks.on_reply = [&](uint64_t upstream_offset, size_t) {
      out.reply_offsets.push_back(upstream_offset);
    };
    proxy = std::make_unique<TcpProxy>(ticket.port, std::move(hooks));

    std::vector<std::string> sender_argv = CommonArgs(XferSendPath());
    sender_argv.insert(sender_argv.end(), {"--to", "127.0.0.1"});
    sender_argv.insert(sender_argv.end(), spec.sender_args.begin(), spec.sender_args.end());
    sender_argv.insert(sender_argv.end(), spec.sources.begin(), spec.sources.end());
    sender = std::make_unique<ChildProcess>(sender_argv);
    parties.SetSender(sender.get());  // before the ticket: the sender cannot connect without it
    sender->WriteStdin(TicketWithPort(out.ticket, proxy->port()) + "\n");
    sender->CloseStdin();
    out.sender_exit = WaitOrKill(*sender);
  }
  out.receiver_exit = WaitOrKill(*receiver);
  proxy.reset();
  out.receiver_stdout = receiver->stdout_text();
  out.receiver_stderr = receiver->stderr_text();
  if (sender) {
    out.sender_stdout = sender->stdout_text();
    out.sender_stderr = sender->stderr_text();
  }
  return out;
}

}  // namespace xfer::testing
