// MariadbServer: a real MariaDB server for tests, private to one test: a datadir made by
// mariadb-install-db in a temporary directory (or an existing one, such as a prepared backup),
// mariadbd with no network (--skip-networking), its socket, pid file and logs beside it, small
// memory settings so that two run at once. Ready means ready: the server tells so itself through
// the systemd notification protocol (READY=1 on a datagram socket of ours), no sleeping and
// polling. Every wait has a deadline.
//
// Needs root (it runs mariadbd --user=root). Usage:
//   if (std::string missing = MariadbServer::MissingPrograms(); !missing.empty())
//     GTEST_SKIP() << missing;
//   auto server = MariadbServer::CreateFresh();
//   ASSERT_TRUE(server->status().ok()) << server->status().message();
//   ASSERT_TRUE(server->Query("CREATE DATABASE d").ok());
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "child_process.h"
#include "temp_dir.h"
#include "xfer/status.h"

namespace xfer::testing {

class MariadbServer {
 public:
  // "" when mariadb-install-db, mariadbd, mariadb, mariadb-backup and mbstream
  // are all installed; otherwise which are missing, for GTEST_SKIP.
  static std::string MissingPrograms();
  // Where such a program is ("" if nowhere): $PATH, then /usr/sbin and /sbin.
  static std::string ProgramPath(const std::string& name);

  // A new server: mariadb-install-db (root authenticated by its unix socket, no test database),
  // then started. `options` go to mariadbd after ours ("--general-log", ...).
  static std::unique_ptr<MariadbServer> CreateFresh(const std::vector<std::string>& options = {});
  // A server started on an existing datadir, which stays when the server goes.
  static std::unique_ptr<MariadbServer> StartOn(const std::string& datadir,
                                                const std::vector<std::string>& options = {});
  // Stops the server (as Stop()) and removes the temporary directory.
  ~MariadbServer();
  MariadbServer(const MariadbServer&) = delete;
  MariadbServer& operator=(const MariadbServer&) = delete;

  // Why it is not running, if it did not start.
  const Status& status() const { return status_; }
  const std::string& datadir() const { return datadir_; }
  std::string socket_path() const { return dir_.Sub("mysqld.sock"); }
  // The general query log, written when the server was started with --general-log.
  std::string general_log_path() const { return dir_.Sub("general.log"); }
  std::string error_log_path() const { return dir_.Sub("error.log"); }

  // Runs `sql` (one or more statements) as root through the mariadb client, within 60 s. *out,
  // if given, gets the result rows, one line each, columns separated by tabs, no header.
  Status Query(const std::string& sql, std::string* out = nullptr) const;
  // The argv of a mariadb client connected as root, running the SQL it reads on stdin: one
  // connection of its own for as long as stdin stays open.
  std::vector<std::string> ClientCommand() const;

  // SHUTDOWN, then waits for mariadbd to exit; kill -9 when it has not within 60 s.
  // Fails when it had to be killed or exited non-zero. Doing it twice is harmless.
  Status Stop();

 private:
  MariadbServer() = default;
  Status Install();
  // Starts mariadbd on datadir_ and waits for READY=1, or its exit, or the deadline.
  Status Start(const std::vector<std::string>& options);
  // The error log's last lines on one line, for messages.
  std::string ErrorLogTail() const;

  TempDir dir_;
  std::string datadir_;
  Status status_;
  std::unique_ptr<ChildProcess> mariadbd_;
};

}  // namespace xfer::testing
