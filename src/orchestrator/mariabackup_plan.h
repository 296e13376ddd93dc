// `xfer --type mariabackup SRC_HOST:SOCKET DST_HOST:DIR`: a live backup of the MariaDB server
// listening on SOCKET, streamed by `xfer-send --exec 'mariadb-backup --backup --stream=xbstream
// ...'` into `xfer-recv --exec 'mbstream -x' DIR` on each target. This file holds its options
// and builds every command line the mode runs; mariabackup_preflight.h checks the hosts,
// mariabackup_run.h runs it.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "plan.h"
#include "xfer/status.h"

namespace xfer::orchestrator {

struct MariabackupOptions {
  std::string user;                          // --backup-user: mariadb-backup's and mariadb's --user
  std::vector<std::string> backup_options;   // --backup-option, in order, for mariadb-backup
  std::vector<std::string> prepare_options;  // --prepare-option, for mariadb-backup --prepare
  int parallel = 4;                          // mariadb-backup --parallel: files copied at once
  std::string mariadb_backup = "mariadb-backup";  // the binaries, on every host's PATH or paths
  std::string mbstream = "mbstream";
  std::string mariadb = "mariadb";  // the client that runs STOP/START REPLICA
  bool stop_replica = false;        // STOP REPLICA before the backup, START REPLICA after (always)
  bool prepare = false;             // mariadb-backup --prepare on every target that verified
};

// Adds the options above to `xfer`'s command line, in a group of their own; the group tells
// whether any was given.
CLI::Option_group* AddMariabackupOptions(CLI::App* app, MariabackupOptions* options);

// For any other --type: fails naming the first option of the group that was given ("--prepare
// needs --type mariabackup").
Status RefuseMariabackupOptions(const CLI::Option_group& group);

// For --type mariabackup: checks the options and the operands (SOCKET, targets) and sets the
// plan's exec commands, and turns resuming off (a backup restarts; main refuses an explicit
// --resume). Refuses what does not apply to a backup stream (--overwrite, --checksum) and a
// password in an option (it would show in every process list on the way).
Status ConfigureMariabackup(const MariabackupOptions& options, Plan* plan);

// Those of `options` that name option files (--no-defaults, --defaults-file=,
// --defaults-extra-file=, --defaults-group-suffix=): MariaDB's programs take them only first
// on their command line, and the mariadb client gets them too (the same credentials).
std::vector<std::string> OptionFileOptions(const std::vector<std::string>& options);

// mariadb-backup [option files] --backup --stream=xbstream --socket=SOCKET --parallel=N
// [--user=USER] [other --backup-option...]: what the source streams.
std::vector<std::string> BackupCommand(const MariabackupOptions& options,
                                       const std::string& socket);
// mbstream -x: what each target feeds the stream to, in its staging directory.
std::vector<std::string> ExtractCommand(const MariabackupOptions& options);
// mariadb-backup --prepare --target-dir=DIR [--prepare-option...]
std::vector<std::string> PrepareCommand(const MariabackupOptions& options, const std::string& dir);
// mariadb [option files] --socket=SOCKET [--user=USER] --batch --execute=STATEMENT
std::vector<std::string> ClientCommand(const MariabackupOptions& options, const std::string& socket,
                                       const std::string& statement);

}  // namespace xfer::orchestrator
