// `xfer --type mariabackup` end to end, against a real MariaDB server the test starts
// (tests/support/mariadb_server.h), with a writer inserting rows while it is backed up: the real
// xfer, xfer-send, xfer-recv, mariadb-backup and mbstream, through real sshd on a private LAN of
// network namespaces, or on `localhost`. The command lines alone: mariabackup_plan_test.cc.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "child_process.h"
#include "mariadb_server.h"
#include "netns_lan.h"
#include "process_table.h"
#include "program_paths.h"
#include "run_command.h"
#include "shell_quote.h"
#include "sshd_server.h"
#include "temp_dir.h"
#include "text_match.h"
#include "transfer_common.h"
#include "transfer_harness.h"

namespace xfer::testing {
namespace {

using Names = std::vector<std::string>;

const std::string kXfer = XFER_ORCHESTRATOR_BIN_PATH;
const std::string kBinDir = std::filesystem::path(XferRecvPath()).parent_path().string();

#define SKIP_UNLESS_MARIADB()                                                       \
  do {                                                                              \
    if (std::string missing = MariadbServer::MissingPrograms(); !missing.empty()) { \
      GTEST_SKIP() << missing;                                                      \
    }                                                                               \
    if (geteuid() != 0) GTEST_SKIP() << "a test MariaDB server needs root";         \
  } while (0)

// Tables nobody writes during the backup (InnoDB, Aria, MyISAM): CHECKSUM TABLE must answer the
// same on the copy.
const char kQuietTables[] = "shop.customers, shop.orders, shop.archive, shop.legacy";
constexpr char kSchema[] = R"sql(
CREATE DATABASE shop;
USE shop;
CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL,
  email VARCHAR(128) NOT NULL, created DATETIME NOT NULL) ENGINE=InnoDB;
INSERT INTO shop.customers SELECT seq, CONCAT('customer ', seq), CONCAT(MD5(seq), '@example.org'),
  '2026-01-01' + INTERVAL seq MINUTE FROM seq_1_to_5000;
CREATE TABLE shop.orders (id INT PRIMARY KEY, customer INT NOT NULL, amount DECIMAL(10,2) NOT NULL,
  note TEXT, KEY (customer)) ENGINE=InnoDB;
INSERT INTO shop.orders SELECT seq, seq % 5000 + 1, seq * 1.25, REPEAT(MD5(seq), 4)
  FROM seq_1_to_20000;
CREATE TABLE shop.archive (id INT PRIMARY KEY, payload VARCHAR(255) NOT NULL) ENGINE=Aria;
INSERT INTO shop.archive SELECT seq, SHA1(seq) FROM seq_1_to_3000;
CREATE TABLE shop.legacy (id INT PRIMARY KEY, payload VARCHAR(255) NOT NULL) ENGINE=MyISAM;
INSERT INTO shop.legacy SELECT seq, SHA2(seq, 256) FROM seq_1_to_3000;
CREATE TABLE shop.events (id BIGINT AUTO_INCREMENT PRIMARY KEY, payload VARCHAR(255) NOT NULL)
  ENGINE=InnoDB;
)sql";

// A source server with the shop tables and its general query log on.
std::unique_ptr<MariadbServer> StartSource() {
  auto server = MariadbServer::CreateFresh({"--general-log"});
  if (server->status().ok()) {
    Status created = server->Query(kSchema);
    EXPECT_TRUE(created.ok()) << created.message();
  }
  return server;
}

std::string QueryOrFail(const MariadbServer& server, const std::string& sql) {
  std::string out;
  Status status = server.Query(sql, &out);
  EXPECT_TRUE(status.ok()) << sql << ": " << status.message();
  return out;
}

// Inserts rows into shop.events one at a time (autocommit) through a client connection of its
// own, as fast as the server commits them, until Stop().
class Writer {
 public:
  explicit Writer(const MariadbServer& server)
      : client_(server.ClientCommand()), thread_([this] { Run(); }) {}
  ~Writer() { Stop(); }

  // Stops writing and waits for the client to finish what it was sent; its exit status.
  int Stop() {
    if (thread_.joinable()) {
      stop_ = true;
      thread_.join();
      client_.CloseStdin();
      exit_code_ = client_.Wait(std::chrono::seconds(60));
    }
    return exit_code_;
  }
  const std::string& errors() const { return client_.stderr_text(); }

 private:
  void Run() {
    ScopedSigpipeBlock sigpipe;  // a client that died fails the writes, not the test program
    while (!stop_) {
      client_.WriteStdin("INSERT INTO shop.events (payload) VALUES (REPEAT(MD5(RAND()), 4));\n");
    }
  }

  ChildProcess client_;
  std::atomic<bool> stop_{false};
  int exit_code_ = -1;
  std::thread thread_;  // last: starts once the rest is ready
};

uint64_t Count(const MariadbServer& server, const std::string& table) {
  return std::stoull("0" + QueryOrFail(server, "SELECT COUNT(*) FROM " + table));
}

// Waits (polling, up to 30 s) until the writer has committed at least `rows` rows.
void AwaitRows(const MariadbServer& server, uint64_t rows) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Count(server, "shop.events") < rows && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Where the statements are in the general query log (line numbers), each looked for after the
// one before it; -1 from the first not found on.
std::vector<int> LogPositions(const MariadbServer& server, const Names& statements) {
  std::string log = ReadFile(server.general_log_path());
  std::vector<int> positions(statements.size(), -1);
  size_t next = 0;  // the statement looked for
  int line_number = 0;
  size_t start = 0;
  while (start < log.size() && next < statements.size()) {
    size_t end = log.find('\n', start);
    if (end == std::string::npos) end = log.size();
    if (log.substr(start, end - start).find("Query\t" + statements[next]) != std::string::npos) {
      positions[next++] = line_number;
    }
    ++line_number;
    start = end + 1;
  }
  return positions;
}

// Makes the server a replica of a master that is not there (connecting forever): STOP REPLICA and
// START REPLICA work, and SHOW REPLICA STATUS tells whether its SQL thread runs.
void MakeReplica(const MariadbServer& server) {
  QueryOrFail(server,
              "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=9, MASTER_USER='repl', "
              "MASTER_CONNECT_RETRY=1; START REPLICA");
}

bool ReplicaRunning(const MariadbServer& server) {
  Names argv = server.ClientCommand();  // with column names: \\G shows them beside the values
  argv.push_back("--execute=SHOW REPLICA STATUS\\G");
  std::string status;
  Status ran = cli::RunCommand(argv, std::chrono::seconds(30), &status);
  EXPECT_TRUE(ran.ok()) << ran.message();
  return status.find("Slave_SQL_Running: Yes") != std::string::npos;
}

// The mariadb-backup --prepare of `dir`, ready: a server starts on it and answers as `source`.
void ExpectServerStartsOnCopyLike(const MariadbServer& source, const std::string& dir,
                                  uint64_t rows_before_backup) {
  auto copy = MariadbServer::StartOn(dir);
  ASSERT_TRUE(copy->status().ok()) << copy->status().message();
  EXPECT_EQ(QueryOrFail(*copy, std::string("CHECKSUM TABLE ") + kQuietTables),
            QueryOrFail(source, std::string("CHECKSUM TABLE ") + kQuietTables));
  // The busy table holds what was committed before the backup, and no hole: a consistent
  // snapshot of one writer's autocommitted inserts is a prefix of them.
  std::string counted =
      QueryOrFail(*copy, "SELECT COUNT(*), COALESCE(MAX(id), 0) FROM shop.events");
  uint64_t rows = std::stoull(counted.substr(0, counted.find('\t')));
  EXPECT_GE(rows, rows_before_backup);
  EXPECT_EQ(counted, std::to_string(rows) + "\t" + std::to_string(rows));
  EXPECT_EQ(QueryOrFail(*copy, "CHECK TABLE shop.events, shop.orders"),
            "shop.events\tcheck\tstatus\tOK\nshop.orders\tcheck\tstatus\tOK");
  EXPECT_TRUE(copy->Stop().ok());
}

// Host 0 runs `xfer` and holds the source server (this machine's filesystem, so its socket is
// there too); hosts 1 and 2 are the targets. Each runs its own sshd.
class ThreeHosts {
 public:
  ThreeHosts() : lan_(3) {
    if (!lan_.status().ok()) {
      status_ = lan_.status();
      return;
    }
    for (int i = 0; i < 3; ++i) {
      sshd_.push_back(std::make_unique<SshdServer>(lan_.host_namespace(i)));
      if (!sshd_.back()->status().ok()) {
        status_ = sshd_.back()->status();
        return;
      }
    }
  }
  const Status& status() const { return status_; }
  std::string Operand(int host, const std::string& path) const {
    return "root@" + lan_.host_address(host) + ":" + path;
  }
  // xfer on host 0, with an --ssh that holds every sshd's key.
  std::unique_ptr<ChildProcess> StartXfer(const Names& args) const {
    Names ssh = sshd_[0]->SshCommand();
    for (size_t i = 1; i < sshd_.size(); ++i) ssh.insert(ssh.end(), {"-i", sshd_[i]->client_key()});
    Names argv{kXfer, "--ssh", cli::ShellCommand(ssh), "--bin-dir", kBinDir};
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<ChildProcess>(lan_.Exec(0, argv));
  }

 private:
  Status status_;
  NetnsLan lan_;
  std::vector<std::unique_ptr<SshdServer>> sshd_;
};

std::unique_ptr<ChildProcess> StartLocalXfer(const Names& args) {
  Names argv{kXfer, "--type", "mariabackup"};
  argv.insert(argv.end(), args.begin(), args.end());
  return std::make_unique<ChildProcess>(argv);
}

// An executable shell script at path.
void WriteScript(const std::string& path, const std::string& body) {
  WriteFile(path, "#!/bin/sh\n" + body);
  ASSERT_EQ(chmod(path.c_str(), 0755), 0);
}

// The lines of text that are not empty.
size_t LineCount(const std::string& text) {
  size_t lines = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) ++lines;
    start = end + 1;
  }
  return lines;
}

TEST(MariadbServerFixture, StartsAnswersAndStops) {
  SKIP_UNLESS_MARIADB();
  auto server = MariadbServer::CreateFresh();
  ASSERT_TRUE(server->status().ok()) << server->status().message();
  EXPECT_EQ(QueryOrFail(*server, "SELECT 6 * 7"), "42");
  EXPECT_TRUE(server->Stop().ok());
  EXPECT_FALSE(server->Query("SELECT 1").ok());  // it is gone
}

TEST(Mariabackup, CopiesALiveServerOverSshToTwoTargetsThatStartAfterPrepare) {
  SKIP_UNLESS_MARIADB();
  ThreeHosts hosts;
  if (!hosts.status().ok()) GTEST_SKIP() << hosts.status().message();
  auto source = StartSource();
  ASSERT_TRUE(source->status().ok()) << source->status().message();
  TempDir dir;
  Names copies{dir.Sub("copy1"), dir.Sub("copy2")};
  for (const std::string& copy : copies) ASSERT_TRUE(std::filesystem::create_directory(copy));

  Writer writer(*source);
  AwaitRows(*source, 50);
  uint64_t rows_before = Count(*source, "shop.events");
  auto xfer = hosts.StartXfer({"--type", "mariabackup", "--prepare", "--parallel", "2", "--json",
                               hosts.Operand(0, source->socket_path()), hosts.Operand(1, copies[0]),
                               hosts.Operand(2, copies[1])});
  int exit_code = xfer->Wait(std::chrono::seconds(120));
  uint64_t rows_after = Count(*source, "shop.events");
  EXPECT_EQ(writer.Stop(), 0) << writer.errors();
  ASSERT_EQ(exit_code, 0) << xfer->stderr_text() << xfer->stdout_text();
  EXPECT_GT(rows_after, rows_before) << "the writer must have written during the backup";

  std::string events = xfer->stdout_text();
  for (int i = 0; i < 2; ++i) {
    std::string label = hosts.Operand(i + 1, copies[i]);
    EXPECT_TRUE(Contains(events, "{\"event\":\"result\",\"target\":\"" + label + "\",\"ok\":true"));
    EXPECT_TRUE(Contains(events, "{\"event\":\"prepare\",\"where\":\"" + label + "\",\"ok\":true"));
  }
  EXPECT_TRUE(Contains(events, "{\"event\":\"summary\",\"ok\":true"));
  for (const std::string& copy : copies) {
    SCOPED_TRACE(copy);
    ExpectServerStartsOnCopyLike(*source, copy, rows_before);
  }
}

TEST(Mariabackup, StopsTheReplicaForTheBackupAndStartsItAfter) {
  SKIP_UNLESS_MARIADB();
  auto source = StartSource();
  ASSERT_TRUE(source->status().ok()) << source->status().message();
  MakeReplica(*source);
  ASSERT_TRUE(ReplicaRunning(*source));
  TempDir dir;
  auto xfer = StartLocalXfer({"--stop-replica", "--prepare", "localhost:" + source->socket_path(),
                              "localhost:" + dir.path()});
  ASSERT_EQ(xfer->Wait(std::chrono::seconds(120)), 0) << xfer->stderr_text();
  std::vector<int> at = LogPositions(
      *source, {"STOP REPLICA", "BACKUP STAGE START", "BACKUP STAGE END", "START REPLICA"});
  EXPECT_EQ(std::count(at.begin(), at.end(), -1), 0) << "not logged in this order";
  EXPECT_TRUE(ReplicaRunning(*source));
  ExpectServerStartsOnCopyLike(*source, dir.path(), 0);
}

TEST(Mariabackup, BackupFailingAfterAFullStreamLeavesNothingAndStartsTheReplica) {
  SKIP_UNLESS_MARIADB();
  auto source = StartSource();
  ASSERT_TRUE(source->status().ok()) << source->status().message();
  MakeReplica(*source);
  TempDir dir;
  ASSERT_TRUE(std::filesystem::create_directory(dir.Sub("copy")));
  // The whole backup streams, then the command fails: its exit status alone must fail the copy.
  WriteScript(dir.Sub("mariadb-backup"), MariadbServer::ProgramPath("mariadb-backup") +
                                             " \"$@\"\necho 'disk of the tape robot on fire' >&2\n"
                                             "exit 3\n");
  auto xfer =
      StartLocalXfer({"--stop-replica", "--prepare", "--mariadb-backup", dir.Sub("mariadb-backup"),
                      "localhost:" + source->socket_path(), "localhost:" + dir.Sub("copy")});
  EXPECT_EQ(xfer->Wait(std::chrono::seconds(120)), 1);
  const std::string& errors = xfer->stderr_text();
  EXPECT_TRUE(Contains(errors, "exited with status 3 (disk of the tape robot on fire)"));
  EXPECT_EQ(ListDir(dir.Sub("copy")), Names{});
  std::vector<int> at =
      LogPositions(*source, {"STOP REPLICA", "BACKUP STAGE END", "START REPLICA"});
  EXPECT_EQ(std::count(at.begin(), at.end(), -1), 0) << "not logged in this order";
  EXPECT_TRUE(ReplicaRunning(*source));
}

// Waits (polling the general query log, up to 60 s) until the server has run `statement`.
bool AwaitLogged(const MariadbServer& server, const std::string& statement) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (LogPositions(server, {statement})[0] < 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

TEST(Mariabackup, CancelledBackupLeavesNothingAndStartsTheReplica) {
  SKIP_UNLESS_MARIADB();
  auto source = StartSource();
  ASSERT_TRUE(source->status().ok()) << source->status().message();
  MakeReplica(*source);
  TempDir dir;
  ASSERT_TRUE(std::filesystem::create_directory(dir.Sub("copy")));
  // A backup that, once streamed, lingers: xfer is stopped while it waits for its end.
  WriteScript(dir.Sub("mariadb-backup"),
              MariadbServer::ProgramPath("mariadb-backup") + " \"$@\" && exec sleep 100\n");
  auto started = std::chrono::steady_clock::now();
  auto xfer =
      StartLocalXfer({"--stop-replica", "--prepare", "--mariadb-backup", dir.Sub("mariadb-backup"),
                      "localhost:" + source->socket_path(), "localhost:" + dir.Sub("copy")});
  ASSERT_TRUE(AwaitLogged(*source, "BACKUP STAGE END")) << xfer->stderr_text();
  xfer->Kill(SIGTERM);
  EXPECT_EQ(xfer->Wait(std::chrono::seconds(60)), 1) << xfer->stderr_text();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(60));
  EXPECT_EQ(ListDir(dir.Sub("copy")), Names{});
  std::vector<int> at =
      LogPositions(*source, {"STOP REPLICA", "BACKUP STAGE END", "START REPLICA"});
  EXPECT_EQ(std::count(at.begin(), at.end(), -1), 0) << "not logged in this order";
  EXPECT_TRUE(ReplicaRunning(*source));
}

TEST(Mariabackup, RefusedLoginFailsWithTheServersReason) {
  SKIP_UNLESS_MARIADB();
  auto source = StartSource();
  ASSERT_TRUE(source->status().ok()) << source->status().message();
  TempDir dir;
  auto xfer = StartLocalXfer({"--backup-user", "nobody_here", "localhost:" + source->socket_path(),
                              "localhost:" + dir.path()});
  EXPECT_EQ(xfer->Wait(std::chrono::seconds(120)), 1);
  EXPECT_TRUE(Contains(xfer->stderr_text(), "Access denied for user 'nobody_here'"));
  EXPECT_EQ(ListDir(dir.path()), Names{});
}

TEST(Mariabackup, PasswordFromAnOptionFileNeverShowsInAProcessList) {
  SKIP_UNLESS_MARIADB();
  auto source = StartSource();
  ASSERT_TRUE(source->status().ok()) << source->status().message();
  MakeReplica(*source);
  const std::string secret = "Xf3r-s3cret-in-a-file";
  QueryOrFail(*source, "CREATE USER backup@localhost IDENTIFIED BY '" + secret +
                           "'; GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR, SELECT, "
                           "REPLICATION SLAVE ADMIN, SLAVE MONITOR ON *.* TO backup@localhost");
  TempDir dir;
  WriteFile(dir.Sub("backup.cnf"), "[client]\nuser=backup\npassword=" + secret + "\n");
  ASSERT_TRUE(std::filesystem::create_directory(dir.Sub("copy")));

  // Every process's argv, read all along the run.
  std::atomic<bool> done{false};
  std::atomic<int> seen{0};
  std::thread watcher([&] {
    while (!done) {
      seen += static_cast<int>(ProcessesMentioning(secret).size());
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  auto xfer = StartLocalXfer(
      {"--stop-replica", "--backup-option=--defaults-extra-file=" + dir.Sub("backup.cnf"),
       "localhost:" + source->socket_path(), "localhost:" + dir.Sub("copy")});
  int exit_code = xfer->Wait(std::chrono::seconds(120));
  done = true;
  watcher.join();
  ASSERT_EQ(exit_code, 0) << xfer->stderr_text();
  EXPECT_EQ(seen, 0);
  EXPECT_TRUE(Contains(ReadFile(source->general_log_path()), "Connect\tbackup@localhost"));
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("copy/xtrabackup_checkpoints")));
}

TEST(Mariabackup, MissingProgramsFailPreflightNamingThem) {
  SKIP_UNLESS_MARIADB();
  auto source = StartSource();
  ASSERT_TRUE(source->status().ok()) << source->status().message();
  TempDir dir;
  auto xfer = StartLocalXfer({"--stop-replica", "--mariadb-backup", "/nonexistent/mariadb-backup",
                              "--mbstream", "no-such-mbstream",
                              "localhost:" + source->socket_path(), "localhost:" + dir.path()});
  EXPECT_EQ(xfer->Wait(std::chrono::seconds(60)), 1);
  const std::string& errors = xfer->stderr_text();
  // Named by the source's xfer-send, which checks the very command the backup will run.
  EXPECT_TRUE(Contains(errors, "xfer: error: source localhost:" + source->socket_path() +
                                   ": command '/nonexistent/mariadb-backup --backup "));
  EXPECT_TRUE(Contains(errors, "': No such file or directory\n"));
  EXPECT_TRUE(Contains(errors, "xfer: error: target localhost:" + dir.path() +
                                   ": no-such-mbstream: not found on PATH\n"));
  EXPECT_TRUE(Contains(errors, "pre-flight failed; nothing was transferred"));
  EXPECT_EQ(LineCount(errors), 3u) << errors;
  EXPECT_EQ(ListDir(dir.path()), Names{});
  // Nothing was touched: not even STOP REPLICA.
  EXPECT_EQ(LogPositions(*source, {"STOP REPLICA"})[0], -1);
}

TEST(Mariabackup, FailedPrepareNamesTheHostAndKeepsTheVerifiedBackup) {
  SKIP_UNLESS_MARIADB();
  auto source = StartSource();
  ASSERT_TRUE(source->status().ok()) << source->status().message();
  TempDir dir;
  auto xfer = StartLocalXfer({"--prepare", "--prepare-option=--no-such-option",
                              "localhost:" + source->socket_path(), "localhost:" + dir.path()});
  EXPECT_EQ(xfer->Wait(std::chrono::seconds(120)), 1);
  const std::string& errors = xfer->stderr_text();
  EXPECT_TRUE(Contains(errors, "xfer: localhost:" + dir.path() +
                                   ": FAILED: verified, but the prepare failed: mariadb-backup "
                                   "--prepare on localhost: exited with status "));
  EXPECT_TRUE(Contains(errors, "unknown option '--no-such-option'"));
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("xtrabackup_checkpoints")));
}

// No server needed from here on.

TEST(Mariabackup, MissingSocketFailsPreflight) {
  SKIP_UNLESS_MARIADB();
  TempDir dir;
  auto xfer = StartLocalXfer({"localhost:" + dir.Sub("mysqld.sock"), "localhost:" + dir.path()});
  EXPECT_EQ(xfer->Wait(std::chrono::seconds(60)), 1);
  EXPECT_TRUE(Contains(xfer->stderr_text(), "no socket at " + dir.Sub("mysqld.sock")));
  EXPECT_EQ(LineCount(xfer->stderr_text()), 2u) << xfer->stderr_text();
}

TEST(Mariabackup, SocketNobodyListensOnFailsWithTheReasonAndLeavesNothing) {
  SKIP_UNLESS_MARIADB();
  TempDir dir;
  // A socket file left by a server that is gone.
  std::string socket_path = dir.Sub("mysqld.sock");
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof address.sun_path - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  close(fd);
  ASSERT_TRUE(std::filesystem::create_directory(dir.Sub("copy")));
  auto xfer =
      StartLocalXfer({"--prepare", "localhost:" + socket_path, "localhost:" + dir.Sub("copy")});
  EXPECT_EQ(xfer->Wait(std::chrono::seconds(60)), 1);
  EXPECT_TRUE(Contains(xfer->stderr_text(), "Can't connect to local server through socket"));
  EXPECT_EQ(ListDir(dir.Sub("copy")), Names{});
}

TEST(Mariabackup, TargetDirectoryMustBeEmpty) {
  SKIP_UNLESS_MARIADB();
  TempDir dir;
  WriteFile(dir.Sub("ibdata1"), "an older copy");
  std::filesystem::create_directory(dir.Sub("lost+found"));  // a fresh filesystem's: allowed
  auto xfer = StartLocalXfer({"localhost:" + dir.Sub("none.sock"), "localhost:" + dir.path()});
  EXPECT_EQ(xfer->Wait(std::chrono::seconds(60)), 1);
  EXPECT_TRUE(Contains(xfer->stderr_text(), dir.path() + " is not empty (it holds ibdata1)"));
}

}  // namespace
}  // namespace xfer::testing
