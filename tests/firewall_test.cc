// xfer-recv --open-firewall-for, for real: the receiver runs in a network namespace whose
// nftables input chain drops everything but loopback, the sender in another one on the same LAN.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "child_process.h"
#include "frozen_filesystem.h"
#include "netns_lan.h"
#include "program_paths.h"
#include "run_command.h"
#include "shell_quote.h"
#include "sshd_server.h"
#include "temp_dir.h"
#include "transfer_harness.h"
#include "xfer/ticket.h"

namespace xfer::testing {
namespace {

constexpr char kNft[] = "/usr/sbin/nft";
constexpr char kIptables[] = "/usr/sbin/iptables";
constexpr int kReceiverHost = 0;
constexpr int kSenderHost = 1;

// What a locked-down host looks like: nothing gets in but loopback, and the neighbour discovery
// without which no IPv6 host can be reached at all.
constexpr char kDropAllRuleset[] = R"(table inet filter {
  chain input {
    type filter hook input priority 0; policy drop;
    iif lo accept
    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
  }
}
)";

class FirewallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces and nftables";
    if (access(kNft, X_OK) != 0) GTEST_SKIP() << kNft << " is missing (install nftables)";
    lan_ = std::make_unique<NetnsLan>(2);
    if (!lan_->status().ok()) GTEST_SKIP() << lan_->status().message();
    WriteFile(tmp_.Sub("ruleset.nft"), kDropAllRuleset);
    Status loaded =
        cli::RunCommand(lan_->Exec(kReceiverHost, {kNft, "-f", tmp_.Sub("ruleset.nft")}));
    ASSERT_TRUE(loaded.ok()) << loaded.message();
    ruleset_before_ = Ruleset();
    ASSERT_NE(ruleset_before_.find("policy drop"), std::string::npos) << ruleset_before_;
    ASSERT_EQ(mkdir(dst_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir(tmp_.Sub("src").c_str(), 0755), 0);
    ASSERT_EQ(mkdir(data_.c_str(), 0755), 0);
    WriteFile(data_ + "/hello.txt", "hello through the firewall\n");
  }

  // What argv prints, run in the receiver's namespace.
  std::string ReceiverOutput(const std::vector<std::string>& argv) {
    ChildProcess command(lan_->Exec(kReceiverHost, argv));
    command.CloseStdin();
    EXPECT_EQ(command.Wait(std::chrono::seconds(10)), 0) << command.stderr_text();
    return command.stdout_text();
  }
  std::string Ruleset() { return ReceiverOutput({kNft, "list", "ruleset"}); }

  // The rule xfer-recv (process `pid`) adds for a sender at `address`, as nft lists it.
  static std::string RuleText(const std::string& family, const std::string& address,
                              const std::string& ticket, pid_t pid) {
    Ticket parsed;
    EXPECT_TRUE(Ticket::Parse(ticket, &parsed).ok()) << "no ticket";
    return family + " saddr " + address + " tcp dport " + std::to_string(parsed.port) +
           " accept comment \"xfer-recv " + std::to_string(pid) + "\"";
  }

  // wrapper: a command that runs xfer-recv, given as its trailing arguments.
  std::unique_ptr<ChildProcess> StartReceiver(const std::vector<std::string>& extra_args,
                                              std::string* ticket,
                                              const std::vector<std::string>& wrapper = {}) {
    std::vector<std::string> argv = wrapper;
    argv.push_back(XferRecvPath());
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    argv.push_back(dst_);
    auto receiver = std::make_unique<ChildProcess>(lan_->Exec(kReceiverHost, argv));
    *ticket = receiver->ReadStdoutLine(std::chrono::seconds(20));
    return receiver;
  }

  std::unique_ptr<ChildProcess> StartSender(const std::string& ticket, const std::string& to,
                                            int timeout_s) {
    auto sender = std::make_unique<ChildProcess>(lan_->Exec(
        kSenderHost, {XferSendPath(), "--to", to, "--timeout", std::to_string(timeout_s), data_}));
    sender->WriteStdin(ticket + "\n");
    sender->CloseStdin();
    return sender;
  }

  // The PID in the comment of the rule an xfer-recv added ("xfer-recv PID"), or 0.
  pid_t RuleOwner() {
    constexpr std::string_view kComment = "comment \"xfer-recv ";
    std::string ruleset = Ruleset();
    size_t at = ruleset.find(kComment);
    return at == std::string::npos ? 0 : std::atoi(ruleset.c_str() + at + kComment.size());
  }

  std::string receiver_address() const { return lan_->host_address(kReceiverHost); }
  std::string sender_address() const { return lan_->host_address(kSenderHost); }

  TempDir tmp_;
  std::string dst_ = tmp_.Sub("dst");
  std::string data_ = tmp_.Sub("src/data");
  std::unique_ptr<NetnsLan> lan_;
  std::string ruleset_before_;
};

TEST_F(FirewallTest, WithoutTheFlagTheSenderCannotConnect) {
  std::string ticket;
  auto receiver = StartReceiver({"--timeout", "30"}, &ticket);
  ASSERT_FALSE(ticket.empty()) << receiver->stderr_text();
  auto sender = StartSender(ticket, receiver_address(), 2);
  ASSERT_EQ(sender->Wait(std::chrono::seconds(20)), 1) << "the drop policy let the sender in";
  EXPECT_NE(sender->stderr_text().find("connecting to " + receiver_address()), std::string::npos)
      << sender->stderr_text();
  EXPECT_NE(sender->stderr_text().find("timed out"), std::string::npos) << sender->stderr_text();
  EXPECT_EQ(ListDir(dst_), std::vector<std::string>{});
}

TEST_F(FirewallTest, WithTheFlagTheTransferGetsThroughAndTheRuleGoesAfterwards) {
  std::string ticket;
  auto receiver =
      StartReceiver({"--timeout", "30", "--open-firewall-for", sender_address()}, &ticket);
  ASSERT_FALSE(ticket.empty()) << receiver->stderr_text();
  EXPECT_NE(Ruleset().find(RuleText("ip", sender_address(), ticket, receiver->pid())),
            std::string::npos)
      << "no rule while the receiver waits:\n"
      << Ruleset();
  auto sender = StartSender(ticket, receiver_address(), 30);
  ASSERT_EQ(sender->Wait(std::chrono::seconds(60)), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(std::chrono::seconds(60)), 0) << receiver->stderr_text();
  EXPECT_EQ(ReadFile(dst_ + "/data/hello.txt"), "hello through the firewall\n");
  EXPECT_EQ(Ruleset(), ruleset_before_);
}

TEST_F(FirewallTest, OpensForAnIpv6Sender) {
  for (int host : {kReceiverHost, kSenderHost}) {
    std::string address = "fd99::" + std::to_string(host + 1) + "/64";
    Status added = cli::RunCommand(lan_->Exec(
        host, {"/usr/sbin/ip", "addr", "add", address, "dev", NetnsLan::kHostInterface, "nodad"}));
    ASSERT_TRUE(added.ok()) << added.message();
  }
  std::string ticket;
  auto receiver = StartReceiver({"--timeout", "30", "--open-firewall-for", "fd99::2"}, &ticket);
  ASSERT_FALSE(ticket.empty()) << receiver->stderr_text();
  EXPECT_NE(Ruleset().find(RuleText("ip6", "fd99::2", ticket, receiver->pid())), std::string::npos)
      << Ruleset();
  auto sender = StartSender(ticket, "fd99::1", 30);
  ASSERT_EQ(sender->Wait(std::chrono::seconds(60)), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(std::chrono::seconds(60)), 0) << receiver->stderr_text();
  EXPECT_EQ(Ruleset(), ruleset_before_);
}

TEST_F(FirewallTest, TheRuleGoesWhenTheReceiverTimesOut) {
  std::string ticket;
  auto receiver =
      StartReceiver({"--timeout", "3", "--open-firewall-for", sender_address()}, &ticket);
  ASSERT_FALSE(ticket.empty()) << receiver->stderr_text();
  EXPECT_NE(Ruleset().find(RuleText("ip", sender_address(), ticket, receiver->pid())),
            std::string::npos)
      << Ruleset();
  ASSERT_EQ(receiver->Wait(std::chrono::seconds(30)), 1) << receiver->stderr_text();
  EXPECT_EQ(Ruleset(), ruleset_before_);
}

TEST_F(FirewallTest, TheRuleGoesWhenTheReceiverIsTerminated) {
  std::string ticket;
  auto receiver =
      StartReceiver({"--timeout", "60", "--open-firewall-for", sender_address()}, &ticket);
  ASSERT_FALSE(ticket.empty()) << receiver->stderr_text();
  EXPECT_NE(Ruleset().find(RuleText("ip", sender_address(), ticket, receiver->pid())),
            std::string::npos)
      << Ruleset();
  receiver->Kill(SIGTERM);
  ASSERT_EQ(receiver->Wait(std::chrono::seconds(30)), 1) << receiver->stderr_text();
  EXPECT_EQ(Ruleset(), ruleset_before_);
}

// Removing a failed transfer's staging directory can take long (a huge tree): the sender's way in
// must be closed before it starts. DIR is on a filesystem the test freezes mid-transfer, so that
// the removal blocks at its first step; the rule must be gone while it waits. The transfer fails
// the way a vanished sender makes it fail.
TEST_F(FirewallTest, TheRuleGoesBeforeTheStagingDirectoryIsRemoved) {
  std::string error;
  auto ext4 = LoopExt4Mount::Mount(tmp_.Sub("dst.img"), dst_, 32, &error);
  if (!ext4) GTEST_SKIP() << error;
  std::string ticket;
  // --exec cat: what arrives goes to stderr, nothing of it into DIR; and nothing arrives.
  auto receiver = StartReceiver({"--timeout", "30", "--verbose", "--json", "--exec", "cat",
                                 "--open-firewall-for", sender_address()},
                                &ticket);
  ASSERT_FALSE(ticket.empty()) << receiver->stderr_text();
  WriteFile(tmp_.Sub("ticket"), ticket + "\n");
  // --stdin: a stream that stays open, with nothing in it, for as long as the test holds it.
  ChildProcess sender(lan_->Exec(kSenderHost, {XferSendPath(), "--to", receiver_address(),
                                               "--stdin", "--ticket-file", tmp_.Sub("ticket")}));
  // Its first progress line: the sender is in, and the staging directory exists.
  ASSERT_NE(receiver->ReadStdoutLine().find("\"event\":\"progress\""), std::string::npos)
      << receiver->stderr_text();
  std::vector<std::string> staging;
  for (const std::string& name : ListDir(dst_)) {
    bool directory = std::filesystem::is_directory(dst_ + "/" + name);
    if (name.starts_with(".xfer-staging-") && directory) staging.push_back(name);
  }
  ASSERT_EQ(staging.size(), 1u) << "no staging directory in " << dst_;

  auto frozen = FrozenFilesystem::Freeze(dst_, &error);
  ASSERT_NE(frozen, nullptr) << error;
  sender.Kill(SIGKILL);
  ASSERT_TRUE(receiver->WaitForStderr("firewall: removed the rule"))
      << "the rule stayed while the staging directory waited to be removed:\n"
      << receiver->stderr_text();
  EXPECT_EQ(Ruleset(), ruleset_before_);
  EXPECT_TRUE(std::filesystem::exists(dst_ + "/" + staging[0]))
      << "the staging directory went before the rule, on a frozen filesystem?";

  frozen.reset();
  ASSERT_EQ(receiver->Wait(std::chrono::seconds(30)), 1) << receiver->stderr_text();
  EXPECT_FALSE(std::filesystem::exists(dst_ + "/" + staging[0]));
}

// An xfer-recv killed with SIGKILL cannot remove its rule; the process that holds the rules for
// it does, before `xfer` exits (it waits for the end of xfer-recv's stderr, which that process
// holds until then). Here the target's xfer-recv is killed mid-transfer, and the operator then
// stops `xfer`.
TEST_F(FirewallTest, TheRuleGoesWhenXferRecvIsKilledMidTransfer) {
  // `xfer` runs on the sending host and reaches both hosts through ssh.
  SshdServer sender_sshd(lan_->host_namespace(kSenderHost));
  if (!sender_sshd.status().ok()) GTEST_SKIP() << sender_sshd.status().message();
  SshdServer receiver_sshd(lan_->host_namespace(kReceiverHost));
  if (!receiver_sshd.status().ok()) GTEST_SKIP() << receiver_sshd.status().message();
  Status allowed = cli::RunCommand(
      lan_->Exec(kReceiverHost, {kNft, "add", "rule", "inet", "filter", "input", "tcp", "dport",
                                 std::to_string(SshdServer::kNamespacePort), "accept"}));
  ASSERT_TRUE(allowed.ok()) << allowed.message();
  ruleset_before_ = Ruleset();
  // 1 MiB that does not compress, sent at 1 KiB/s (an idle timeout long enough for that): the
  // transfer is under way for as long as the test needs.
  std::string noise(1 << 20, '\0');
  for (size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<char>((i * 2654435761u) >> 13);
  WriteFile(data_ + "/noise", noise);
  std::vector<std::string> ssh = sender_sshd.SshCommand();
  ssh.insert(ssh.end(), {"-i", receiver_sshd.client_key()});
  ChildProcess xfer(lan_->Exec(
      kSenderHost,
      {XFER_ORCHESTRATOR_BIN_PATH, "--ssh", cli::ShellCommand(ssh), "--bin-dir",
       std::filesystem::path(XferRecvPath()).parent_path().string(), "--open-firewall", "--verbose",
       "--limit-rate", "1K", "--idle-timeout", "3600", "--no-compress",
       "root@" + sender_address() + ":" + data_, "root@" + receiver_address() + ":" + dst_}));
  ASSERT_TRUE(xfer.WaitForStderr("sender connected from")) << xfer.stderr_text();
  pid_t receiver = RuleOwner();
  ASSERT_GT(receiver, 0) << Ruleset();

  ASSERT_EQ(kill(receiver, SIGKILL), 0);
  xfer.Kill(SIGTERM);
  EXPECT_EQ(xfer.Wait(std::chrono::seconds(60)), 1) << xfer.stderr_text();
  EXPECT_EQ(Ruleset(), ruleset_before_) << "the killed xfer-recv's rule stayed";
}

TEST_F(FirewallTest, WithNoInputChainThereIsNothingToOpen) {
  Status flushed = cli::RunCommand(lan_->Exec(kReceiverHost, {kNft, "flush", "ruleset"}));
  ASSERT_TRUE(flushed.ok()) << flushed.message();
  std::string ticket;
  auto receiver = StartReceiver(
      {"--timeout", "30", "--verbose", "--open-firewall-for", sender_address()}, &ticket);
  ASSERT_FALSE(ticket.empty()) << receiver->stderr_text();
  auto sender = StartSender(ticket, receiver_address(), 30);
  ASSERT_EQ(sender->Wait(std::chrono::seconds(60)), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(std::chrono::seconds(60)), 0) << receiver->stderr_text();
  EXPECT_NE(receiver->stderr_text().find("no nftables chain filters input; nothing to open"),
            std::string::npos)
      << receiver->stderr_text();
  EXPECT_EQ(Ruleset(), "");
}

TEST_F(FirewallTest, WithoutNftItUsesIptables) {
  if (access(kIptables, X_OK) != 0) GTEST_SKIP() << kIptables << " is missing (install iptables)";
  for (std::vector<std::string> argv : {std::vector<std::string>{kNft, "flush", "ruleset"},
                                        {kIptables, "-P", "INPUT", "DROP"},
                                        {kIptables, "-A", "INPUT", "-i", "lo", "-j", "ACCEPT"}}) {
    Status done = cli::RunCommand(lan_->Exec(kReceiverHost, argv));
    ASSERT_TRUE(done.ok()) << done.message();
  }
  std::string rules_before = ReceiverOutput({kIptables, "-S"});
  // A mount namespace of its own where nft is not executable, so xfer-recv finds no nft.
  std::vector<std::string> without_nft = {
      "/usr/bin/unshare",
      "--mount",
      "/bin/sh",
      "-c",
      std::string("mount --bind /dev/null ") + kNft + " && exec \"$@\"",
      "sh"};
  std::string ticket;
  auto receiver = StartReceiver({"--timeout", "30", "--open-firewall-for", sender_address()},
                                &ticket, without_nft);
  ASSERT_FALSE(ticket.empty()) << receiver->stderr_text();
  Ticket parsed;
  ASSERT_TRUE(Ticket::Parse(ticket, &parsed).ok());
  std::string rule = "-A INPUT -s " + sender_address() + "/32 -p tcp -m tcp --dport " +
                     std::to_string(parsed.port) + " -m comment --comment \"xfer-recv " +
                     std::to_string(receiver->pid()) + "\" -j ACCEPT";
  EXPECT_NE(ReceiverOutput({kIptables, "-S"}).find(rule), std::string::npos)
      << ReceiverOutput({kIptables, "-S"});
  auto sender = StartSender(ticket, receiver_address(), 30);
  ASSERT_EQ(sender->Wait(std::chrono::seconds(60)), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(std::chrono::seconds(60)), 0) << receiver->stderr_text();
  EXPECT_EQ(ReceiverOutput({kIptables, "-S"}), rules_before);
}

TEST_F(FirewallTest, AnUnresolvableSenderFailsBeforeTheTicket) {
  std::string ticket;
  auto receiver =
      StartReceiver({"--timeout", "30", "--open-firewall-for", "no-such-host.invalid"}, &ticket);
  EXPECT_EQ(ticket, "") << "printed a ticket without opening the firewall";
  ASSERT_EQ(receiver->Wait(std::chrono::seconds(30)), 1);
  const std::string& err = receiver->stderr_text();
  EXPECT_TRUE(err.starts_with("xfer-recv: error: opening the firewall for no-such-host.invalid"))
      << err;
  EXPECT_EQ(err.find('\n'), err.size() - 1) << "not one line: " << err;
  EXPECT_EQ(Ruleset(), ruleset_before_);
}

}  // namespace
}  // namespace xfer::testing
