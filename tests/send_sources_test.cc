// End to end: xfer-send's other sources through the real programs on loopback: --files-from
// (a file or stdin, newline or NUL separated, -C) and --from-archive (--strip-components).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "program_paths.h"
#include "temp_dir.h"
#include "text_match.h"
#include "transfer_harness.h"
#include "tree_compare.h"

namespace xfer::testing {
namespace {

class SendSourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* dir : {"src", "src/db", "src/db/sbtest", "src/db/mysql", "dst"}) {
      ASSERT_EQ(mkdir(tmp_.Sub(dir).c_str(), 0750), 0) << dir;
    }
    WriteFile(src_ + "/db/ibdata1", std::string(300000, 'i'));
    WriteFile(src_ + "/db/sbtest/t1.ibd", "t1");
    WriteFile(src_ + "/db/sbtest/t2.ibd", "t2");
    WriteFile(src_ + "/db/mysql/user.MAD", "users");
  }

  // Runs a receiver into dst_ and a sender with args; both must succeed.
  void Transfer(const std::vector<std::string>& sender_args, const std::string& stdin_data = "") {
    std::string ticket;
    auto receiver = StartReceiver(dst_, {}, &ticket);
    std::string ticket_file = tmp_.Sub("ticket");
    WriteFile(ticket_file, ticket + "\n");
    std::vector<std::string> argv = {XferSendPath(), "--to", "127.0.0.1", "--ticket-file",
                                     ticket_file};
    argv.insert(argv.end(), sender_args.begin(), sender_args.end());
    ChildProcess sender(argv);
    sender.WriteStdin(stdin_data);
    sender.CloseStdin();
    ASSERT_EQ(sender.Wait(), 0) << sender.stderr_text();
    ASSERT_EQ(receiver->Wait(), 0) << receiver->stderr_text();
  }

  TempDir tmp_;
  std::string src_ = tmp_.Sub("src");
  std::string dst_ = tmp_.Sub("dst");
};

TEST_F(SendSourcesTest, FilesFromSendsExactlyTheListedPaths) {
  std::string list = tmp_.Sub("list.txt");
  WriteFile(list, "db/ibdata1\n./db/sbtest/t2.ibd\n");
  Transfer({"--files-from", list, "-C", src_});
  EXPECT_EQ(ListDir(dst_), std::vector<std::string>{"db"});
  EXPECT_EQ(ListDir(dst_ + "/db"), (std::vector<std::string>{"ibdata1", "sbtest"}));
  EXPECT_EQ(ListDir(dst_ + "/db/sbtest"), std::vector<std::string>{"t2.ibd"});
  EXPECT_EQ(ReadFile(dst_ + "/db/ibdata1"), ReadFile(src_ + "/db/ibdata1"));
  struct stat st;
  ASSERT_EQ(stat((dst_ + "/db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u) << "an unlisted parent keeps its own mode";
}

TEST_F(SendSourcesTest, FilesFromStdinWithNulSeparators) {
  Transfer({"--files-from", "-", "-0", "-C", src_},
           std::string("db/mysql/user.MAD\0db/sbtest/t1.ibd\0", 35));
  EXPECT_EQ(ReadFile(dst_ + "/db/mysql/user.MAD"), "users");
  EXPECT_EQ(ReadFile(dst_ + "/db/sbtest/t1.ibd"), "t1");
  EXPECT_EQ(ListDir(dst_ + "/db/sbtest"), std::vector<std::string>{"t1.ibd"});
}

TEST_F(SendSourcesTest, FilesFromRefusesAMissingNameNamingTheLineAndSendsNothing) {
  std::string list = tmp_.Sub("list.txt");
  WriteFile(list, "db/ibdata1\ndb/gone.ibd\n");
  std::string ticket;
  auto receiver = StartReceiver(dst_, {}, &ticket);
  auto sender = StartSender(ticket, {}, {"--files-from", list, "-C", src_});
  EXPECT_EQ(sender->Wait(), 1);
  EXPECT_TRUE(Contains(sender->stderr_text(),
                       "files-from " + list + " line 2: db/gone.ibd: No such file or directory"));
  EXPECT_EQ(receiver->Wait(), 1);
  EXPECT_TRUE(ListDir(dst_).empty());
}

TEST_F(SendSourcesTest, FilesFromRefusesAnEmptyListAndStdinWithoutATicketFile) {
  std::string list = tmp_.Sub("empty.txt");
  WriteFile(list, "");
  ChildProcess empty({XferSendPath(), "--to", "127.0.0.1", "--files-from", list});
  empty.CloseStdin();
  EXPECT_EQ(empty.Wait(), 1);
  EXPECT_TRUE(Contains(empty.stderr_text(), "files-from " + list + ": the list names nothing"));

  ChildProcess on_stdin({XferSendPath(), "--to", "127.0.0.1", "--files-from", "-"});
  on_stdin.CloseStdin();
  EXPECT_EQ(on_stdin.Wait(), 2);
  EXPECT_TRUE(Contains(on_stdin.stderr_text(), "the tickets come from --ticket-file"));
}

TEST_F(SendSourcesTest, PreflightSurveysAListAndAnArchiveAsTheyWouldBeSent) {
  std::string list = tmp_.Sub("list.txt");
  WriteFile(list, "db/sbtest/t1.ibd\n");
  ChildProcess listed({XferSendPath(), "--preflight", "--files-from", list, "-C", src_});
  ASSERT_EQ(listed.Wait(), 0) << listed.stderr_text();
  // db and db/sbtest come as parents: 3 entries, 1 file of 2 bytes.
  EXPECT_TRUE(Contains(listed.stdout_text(), "\"entries\":3,\"files\":1,\"bytes\":2,"));
  EXPECT_TRUE(Contains(listed.stdout_text(), "\"names\":[\"db\"]"));

  std::string archive = tmp_.Sub("db.tar");
  ChildProcess tar({"/bin/tar", "-cf", archive, "-C", src_, "db"});
  ASSERT_EQ(tar.Wait(), 0) << tar.stderr_text();
  ChildProcess archived(
      {XferSendPath(), "--preflight", "--from-archive", archive, "--strip-components", "1"});
  ASSERT_EQ(archived.Wait(), 0) << archived.stderr_text();
  EXPECT_TRUE(Contains(archived.stdout_text(), "\"files\":4,"));
  // The archive's order (tar's readdir order), each top-level name once.
  for (const char* name : {"\"ibdata1\"", "\"mysql\"", "\"sbtest\""}) {
    EXPECT_TRUE(Contains(archived.stdout_text(), name));
  }
}

}  // namespace
}  // namespace xfer::testing
