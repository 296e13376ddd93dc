// End to end: byte streams. xfer-send --exec / --stdin, xfer-recv --exec / --stdout, the real
// programs on loopback, and what happens when a command fails at either end.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "program_paths.h"
#include "temp_dir.h"
#include "text_match.h"
#include "tmpfs_mount.h"
#include "transfer_harness.h"

namespace xfer::testing {
namespace {

// Reads the receiver's --json lines until one reports stream bytes received.
bool AwaitProgress(ChildProcess* receiver) {
  for (std::string line = receiver->ReadStdoutLine(); !line.empty();
       line = receiver->ReadStdoutLine()) {
    if (line.find("\"event\":\"progress\"") != std::string::npos &&
        line.find("\"bytes\":0,") == std::string::npos) {
      return true;
    }
  }
  return false;
}

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(mkdir(src_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir(dst_.c_str(), 0755), 0);
    WriteRandomFile(data_, 8 << 20);
  }

  // Both programs failed with one error line each that says `why`, and the destination holds
  // nothing new: no output, no staging directory, no journal (a stream is not resumable, though
  // resuming is the default) and no promise to continue.
  void ExpectBothFailedWith(ChildProcess* sender, ChildProcess* receiver, const std::string& why) {
    EXPECT_EQ(sender->Wait(), 1) << sender->stderr_text();
    EXPECT_EQ(receiver->Wait(), 1) << receiver->stderr_text();
    EXPECT_TRUE(Contains(sender->stderr_text(), why));
    EXPECT_TRUE(Contains(receiver->stderr_text(), why));
    EXPECT_TRUE(ListDir(dst_).empty()) << "left in the destination: " << ListDir(dst_)[0];
    EXPECT_FALSE(Contains(receiver->stderr_text(), "kept")) << receiver->stderr_text();
  }

  TempDir tmp_;
  std::string src_ = tmp_.Sub("src");
  std::string dst_ = tmp_.Sub("dst");
  std::string data_ = tmp_.Sub("src/data.bin");
};

TEST_F(StreamTest, CommandToCommandCopiesTheOutputAndRenamesWhatTheReceiverCreated) {
  std::string ticket;
  auto receiver = StartReceiver(dst_, {"--exec", "dd of=copy.bin status=none"}, &ticket);
  auto sender = StartSender(ticket, {}, {"--exec", "cat " + data_});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  EXPECT_EQ(ListDir(dst_), std::vector<std::string>{"copy.bin"});
  EXPECT_EQ(ReadFile(dst_ + "/copy.bin"), ReadFile(data_));
  EXPECT_TRUE(Contains(sender->stdout_text(), "\"bytes\":8388608"));
  EXPECT_TRUE(Contains(receiver->stdout_text(), "\"bytes\":8388608"));
}

TEST_F(StreamTest, CommandsRunWithoutAShellAndKeepTheirQuotedWords) {
  std::string ticket;
  auto receiver = StartReceiver(dst_, {"--exec", "dd of='out file' status=none"}, &ticket);
  auto sender = StartSender(ticket, {}, {"--exec", "printf '%s|' 'a b' \"c;d\" $HOME *"});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  EXPECT_EQ(ReadFile(dst_ + "/out file"), "a b|c;d|$HOME|*|");
}

TEST_F(StreamTest, ShellRunsTheCommandWithSh) {
  std::string ticket;
  auto receiver = StartReceiver(dst_, {"--shell", "--exec", "tr a-z A-Z > upper.txt"}, &ticket);
  auto sender = StartSender(ticket, {}, {"--shell", "--exec", "echo one; echo two"});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  EXPECT_EQ(ReadFile(dst_ + "/upper.txt"), "ONE\nTWO\n");
}

TEST_F(StreamTest, TheReceiverCommandRunsInTheStagingDirectory) {
  std::string ticket;
  auto receiver =
      StartReceiver(dst_, {"--shell", "--exec", "cat >/dev/null; pwd > where"}, &ticket);
  auto sender = StartSender(ticket, {}, {"--exec", "cat " + data_});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  EXPECT_TRUE(Contains(ReadFile(dst_ + "/where"), dst_ + "/.xfer-staging-"));
  EXPECT_EQ(ListDir(dst_), std::vector<std::string>{"where"});
}

TEST_F(StreamTest, ASenderCommandThatFailsAfterStreamingFailsBothSidesAndLeavesNothing) {
  std::string ticket;
  auto receiver = StartReceiver(dst_, {"--exec", "dd of=copy.bin status=none"}, &ticket);
  auto sender = StartSender(ticket, {}, {"--shell", "--exec", "cat " + data_ + "; exit 3"});
  ExpectBothFailedWith(sender.get(), receiver.get(), "exited with status 3");
}

TEST_F(StreamTest, AReceiverCommandThatFailsFailsBothSidesAndItsOutputIsRemoved) {
  std::string ticket;
  auto receiver = StartReceiver(
      dst_, {"--shell", "--exec", "head -c 1000 > part.bin; cat >/dev/null; exit 4"}, &ticket);
  auto sender = StartSender(ticket, {}, {"--exec", "cat " + data_});
  ExpectBothFailedWith(sender.get(), receiver.get(), "exited with status 4");
}

TEST_F(StreamTest, AReceiverCommandThatStopsReadingEarlyFailsTheTransfer) {
  std::string ticket;
  auto receiver = StartReceiver(dst_, {"--exec", "head -c 10"}, &ticket);
  auto sender = StartSender(ticket, {}, {"--exec", "cat " + data_});
  ExpectBothFailedWith(sender.get(), receiver.get(), "exited before the end of the stream");
}

TEST_F(StreamTest, AMissingCommandIsRefusedBeforeAnythingStarts) {
  ChildProcess receiver({XferRecvPath(), "--exec", "no-such-command -x", dst_});
  EXPECT_EQ(receiver.Wait(), 1);
  EXPECT_TRUE(Contains(receiver.stderr_text(), "no-such-command is not in PATH"));
  EXPECT_EQ(receiver.stdout_text(), "") << "no ticket may be printed";

  std::string ticket;
  auto real_receiver = StartReceiver(dst_, {"--exec", "cat"}, &ticket);
  auto sender = StartSender(ticket, {}, {"--exec", "/no/such/command"});
  EXPECT_EQ(sender->Wait(), 1);
  EXPECT_TRUE(Contains(sender->stderr_text(), "command '/no/such/command': No such file"));
  real_receiver->Kill(SIGTERM);
  EXPECT_EQ(real_receiver->Wait(), 1);
  EXPECT_TRUE(ListDir(dst_).empty());
}

TEST_F(StreamTest, ASenderKilledMidStreamStopsTheReceiverCommandAndLeavesNothing) {
  std::string pid_file = tmp_.Sub("consumer.pid");
  std::string ticket;
  auto receiver = StartReceiver(
      dst_, {"--json", "--shell", "--exec", "echo $$ > " + pid_file + "; exec cat > /dev/null"},
      &ticket);
  // A producer that never ends: the stream is cut by the kill, not by its end.
  auto sender = StartSender(ticket, {}, {"--exec", "cat /dev/zero"});
  ASSERT_TRUE(AwaitProgress(receiver.get())) << receiver->stderr_text();
  sender->Kill(SIGKILL);
  EXPECT_EQ(sender->Wait(), 128 + SIGKILL);
  EXPECT_EQ(receiver->Wait(), 1) << receiver->stderr_text();
  EXPECT_TRUE(Contains(receiver->stderr_text(), "xfer-recv: error: "));
  EXPECT_TRUE(ListDir(dst_).empty());
  pid_t consumer = std::stoi(ReadFile(pid_file));
  EXPECT_EQ(kill(consumer, 0), -1) << "the receiver's command was left running";
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(StreamTest, AReceiverKilledMidStreamStopsTheSenderCommand) {
  std::string pid_file = tmp_.Sub("producer.pid");
  std::string ticket;
  auto receiver = StartReceiver(dst_, {"--json", "--exec", "dd of=/dev/null status=none"}, &ticket);
  auto sender = StartSender(
      ticket, {}, {"--shell", "--exec", "echo $$ > " + pid_file + "; exec cat /dev/zero"});
  ASSERT_TRUE(AwaitProgress(receiver.get())) << receiver->stderr_text();
  receiver->Kill(SIGKILL);
  EXPECT_EQ(receiver->Wait(), 128 + SIGKILL);
  EXPECT_EQ(sender->Wait(), 1) << sender->stderr_text();
  EXPECT_TRUE(Contains(sender->stderr_text(), "xfer-send: error: "));
  pid_t producer = std::stoi(ReadFile(pid_file));
  EXPECT_EQ(kill(producer, 0), -1) << "the sender's command was left running";
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(StreamTest, AFullDiskFailsTheReceiverCommandAndLeavesNothing) {
  std::string small = tmp_.Sub("small");
  ASSERT_EQ(mkdir(small.c_str(), 0755), 0);
  std::string error;
  auto disk = testing::TmpfsMount::Mount(small, "size=1m", &error);
  ASSERT_NE(disk, nullptr) << error;
  std::string ticket;
  auto receiver = StartReceiver(small, {"--exec", "dd of=copy.bin status=none"}, &ticket);
  auto sender = StartSender(ticket, {}, {"--exec", "cat " + data_});
  EXPECT_EQ(sender->Wait(), 1);
  EXPECT_EQ(receiver->Wait(), 1);
  EXPECT_TRUE(Contains(receiver->stderr_text(), "No space left on device"));  // dd says so
  EXPECT_TRUE(Contains(receiver->stderr_text(), "exited with status 1"));
  EXPECT_TRUE(Contains(sender->stderr_text(), "exited with status 1"));
  EXPECT_TRUE(ListDir(small).empty());
}

TEST_F(StreamTest, SigtermStopsASenderWaitingForASilentCommand) {
  std::string pid_file = tmp_.Sub("producer.pid");
  // The receiver's ticket, then the stream, come out of one pipe.
  ChildProcess receiver(
      {"/bin/sh", "-c",
       std::string(XferRecvPath()) + " --listen 127.0.0.1 --timeout 60 --stdout 2>&1"});
  std::string ticket = receiver.ReadStdoutLine();
  // One line (sent in a short chunk), then silence far longer than the waits below.
  auto sender = StartSender(ticket, {},
                            {"--idle-timeout", "600", "--shell", "--exec",
                             "echo $$ > " + pid_file + "; echo first; exec sleep 600"});
  ASSERT_EQ(receiver.ReadStdoutLine(), "first");
  sender->Kill(SIGTERM);
  EXPECT_EQ(sender->Wait(std::chrono::seconds(30)), 1) << sender->stderr_text();
  EXPECT_EQ(receiver.Wait(std::chrono::seconds(30)), 1) << receiver.stdout_text();
  pid_t producer = std::stoi(ReadFile(pid_file));
  EXPECT_EQ(kill(producer, 0), -1) << "the sender's command was left running";
}

TEST_F(StreamTest, FilesSentToACommandArriveAsAPaxArchive) {
  ASSERT_EQ(mkdir((src_ + "/tree").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((src_ + "/tree/sub").c_str(), 0755), 0);
  WriteFile(src_ + "/tree/a.txt", "alpha");
  WriteFile(src_ + "/tree/sub/b.txt", "beta");
  std::string ticket;
  auto receiver = StartReceiver(dst_, {"--exec", "tar xf - --warning=no-unknown-keyword"}, &ticket);
  auto sender = StartSender(ticket, {src_ + "/tree"});
  ASSERT_EQ(sender->Wait(), 0) << sender->stderr_text();
  ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  EXPECT_EQ(ReadFile(dst_ + "/tree/a.txt"), "alpha");
  EXPECT_EQ(ReadFile(dst_ + "/tree/sub/b.txt"), "beta");
}

TEST_F(StreamTest, StdinToStdoutCopiesTheStreamAndKeepsTheLinesOnStderr) {
  // The receiver's stderr is read as the test's stdout pipe, its stdout goes to a file.
  std::string out = tmp_.Sub("out.bin");
  ChildProcess receiver(
      {"/bin/sh", "-c",
       std::string(XferRecvPath()) + " --listen 127.0.0.1 --timeout 60 --stdout 2>&1 >" + out});
  std::string ticket = receiver.ReadStdoutLine();
  ASSERT_TRUE(ticket.starts_with("xfer1:")) << ticket;
  std::string ticket_file = tmp_.Sub("ticket");
  WriteFile(ticket_file, ticket + "\n");
  ChildProcess sender(
      {XferSendPath(), "--to", "127.0.0.1", "--ticket-file", ticket_file, "--stdin"});
  sender.WriteStdin(ReadFile(data_));
  sender.CloseStdin();
  ASSERT_EQ(sender.Wait(), 0) << sender.stderr_text();
  ASSERT_EQ(receiver.Wait(), 0) << receiver.stdout_text();
  EXPECT_EQ(ReadFile(out), ReadFile(data_));
  EXPECT_TRUE(Contains(receiver.stdout_text(), "\"stream_bytes\":8388608"));
}

TEST_F(StreamTest, AStreamToAReceiverThatExtractsIsRefusedWithAHint) {
  std::string ticket;
  auto receiver = StartReceiver(dst_, {}, &ticket);
  auto sender = StartSender(ticket, {}, {"--exec", "cat " + data_});
  ExpectBothFailedWith(sender.get(), receiver.get(),
                       "receive it with xfer-recv --exec or --stdout");
}

TEST_F(StreamTest, ACommandSilentLongerThanTheIdleTimeoutFailsTheTransfer) {
  std::string ticket;
  auto receiver = StartReceiver(dst_, {"--exec", "cat"}, &ticket);
  auto sender = StartSender(ticket, {}, {"--idle-timeout", "1", "--exec", "sleep 60"});
  ExpectBothFailedWith(sender.get(), receiver.get(), "'sleep 60' wrote nothing for 1 s");
}

// A receiver waiting mid-stream on a silent sender stops on SIGTERM (Ctrl-C through xfer), not
// only when its --idle-timeout (an hour here) runs out, and leaves nothing.
TEST_F(StreamTest, ASilentSendersReceiverStopsOnSigtermAtOnce) {
  std::string ticket;
  auto receiver = StartReceiver(dst_, {"--idle-timeout", "3600", "--exec", "cat"}, &ticket);
  auto sender = StartSender(
      ticket, {}, {"--idle-timeout", "3600", "--shell", "--exec", "echo started; sleep 3600"});
  // The first line went through the receiver's command, whose stdout is the receiver's stderr.
  ASSERT_TRUE(receiver->WaitForStderr("started\n")) << receiver->stderr_text();
  receiver->Kill(SIGTERM);
  EXPECT_EQ(receiver->Wait(std::chrono::seconds(30)), 1) << receiver->stderr_text();
  EXPECT_TRUE(Contains(receiver->stderr_text(), "xfer-recv: error: cancelled"));
  EXPECT_EQ(ListDirIgnoringStaging(dst_), std::vector<std::string>{});
  EXPECT_EQ(ListDir(dst_), std::vector<std::string>{});
  sender->Kill(SIGTERM);  // which stops its command too
  EXPECT_NE(sender->Wait(std::chrono::seconds(30)), 0);
}

// Resuming is the default of files; asked for explicitly with a stream, it is refused.
TEST_F(StreamTest, AnExplicitResumeWithAStreamIsRefusedAsNotResumable) {
  std::string tickets = tmp_.Sub("tickets");
  WriteFile(tickets, "xfer1:1:AAAA\n");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{XferSendPath(), "--resume", "--to", "h", "--exec", "cat"},
        {XferSendPath(), "--resume", "--to", "h", "--ticket-file", tickets, "--stdin"},
        {XferSendPath(), "--resume", "--to", "h", "--from-archive", tmp_.Sub("a.tar")},
        {XferRecvPath(), "--resume", "--stdout"},
        {XferRecvPath(), "--resume", "--to-archive", tmp_.Sub("b.tar")},
        {XferRecvPath(), "--resume", "--exec", "cat", dst_}}) {
    ChildProcess program(args);
    program.CloseStdin();  // none of them may wait for a ticket
    EXPECT_EQ(program.Wait(), 2) << args.back() << ": " << program.stderr_text();
    EXPECT_TRUE(Contains(program.stderr_text(), "error: --resume: ")) << program.stderr_text();
    EXPECT_TRUE(Contains(program.stderr_text(), "not resumable")) << program.stderr_text();
  }
  EXPECT_TRUE(ListDir(dst_).empty());
}

TEST_F(StreamTest, UsageErrors) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{XferSendPath(), "--to", "h", "--stdin"},
        {XferSendPath(), "--to", "h", "--exec", "cat", src_},
        {XferSendPath(), "--to", "h", "--exec", "''"},
        {XferRecvPath(), "--stdout", dst_},
        {XferRecvPath(), "--exec", "cat", "--stdout"},
        {XferRecvPath(), "--stdout", "--json"}}) {
    ChildProcess program(args);
    program.CloseStdin();  // none of them may wait for a ticket
    EXPECT_EQ(program.Wait(), 2) << args.back();
    EXPECT_TRUE(Contains(program.stderr_text(), "error: ")) << args.back();
  }
}

}  // namespace
}  // namespace xfer::testing
