#include "mariabackup_plan.h"

#include "shell_quote.h"

namespace xfer::orchestrator {

namespace {

// The option's name: "--defaults-file=/x" -> "--defaults-file".
std::string OptionName(const std::string& option) { return option.substr(0, option.find('=')); }

bool IsOptionFileOption(const std::string& option) {
  std::string name = OptionName(option);
  return option == "--no-defaults" || name == "--defaults-file" ||
         name == "--defaults-extra-file" || name == "--defaults-group-suffix";
}

// MariaDB's option parser takes any unambiguous prefix of a long option ("--pass=x") and a
// "--loose-" in front; -pSECRET is the short form.
bool SetsPassword(const std::string& option) {
  if (option.rfind("-p", 0) == 0) return true;
  std::string name = OptionName(option);
  if (name.rfind("--loose-", 0) == 0) name = "--" + name.substr(8);
  return name.size() >= 5 && std::string("--password").rfind(name, 0) == 0;
}

Status CheckOptions(const std::string& flag, const std::vector<std::string>& options) {
  for (const std::string& option : options) {
    if (option.size() < 2 || option[0] != '-') {
      return Status(Code::kInvalidArgument,
                    flag + " '" + option + "': not an option (write " + flag + "=--name=value)");
    }
    if (SetsPassword(option)) {
      // Named without its value: "--password", "-p".
      std::string name = option[1] == '-' ? OptionName(option) : option.substr(0, 2);
      return Status(Code::kInvalidArgument,
                    flag + " " + name +
                        ": a password on a command line shows in every process list on the way; "
                        "put it in an option file ([client] password=...) and pass " +
                        flag + "=--defaults-extra-file=FILE");
    }
  }
  return Status::Ok();
}

}  // namespace

CLI::Option_group* AddMariabackupOptions(CLI::App* app, MariabackupOptions* options) {
  CLI::Option_group* group = app->add_option_group(
      "--type mariabackup", "A live MariaDB backup: SRC_HOST:SOCKET DST_HOST:DIR ...");
  group->add_option("--backup-user", options->user,
                    "The MariaDB user mariadb-backup (and --stop-replica's client) connects as "
                    "(default: the option files', else the login user)");
  group
      ->add_option("--backup-option", options->backup_options,
                   "An option for mariadb-backup --backup, as --backup-option=--name=value; "
                   "repeatable. Credentials belong in an option file: "
                   "--backup-option=--defaults-extra-file=FILE (option files go first, and to "
                   "the mariadb client too)")
      ->allow_extra_args(false);
  group
      ->add_option("--prepare-option", options->prepare_options,
                   "An option for mariadb-backup --prepare, e.g. --prepare-option=--use-memory=1G; "
                   "repeatable")
      ->allow_extra_args(false);
  group->add_option("--parallel", options->parallel, "Files mariadb-backup copies at once")
      ->default_val(4)
      ->check(CLI::Range(1, 256));
  group
      ->add_option("--mariadb-backup", options->mariadb_backup,
                   "mariadb-backup on the source (and on the targets, with --prepare): a name "
                   "looked up on the host's PATH, or a path")
      ->default_val("mariadb-backup");
  group->add_option("--mbstream", options->mbstream, "mbstream on the targets")
      ->default_val("mbstream");
  group
      ->add_option("--mariadb", options->mariadb,
                   "The mariadb client on the source, for --stop-replica")
      ->default_val("mariadb");
  group->add_flag("--stop-replica", options->stop_replica,
                  "STOP REPLICA on the source before the backup and START REPLICA after it, "
                  "whether the transfer succeeded or not");
  group->add_flag("--prepare", options->prepare,
                  "Run mariadb-backup --prepare on every target that verified its copy, so that "
                  "DIR is ready to start a server on");
  return group;
}

Status RefuseMariabackupOptions(const CLI::Option_group& group) {
  for (const CLI::Option* option : group.get_options()) {
    if (option->count() > 0) {
      return Status(Code::kInvalidArgument, option->get_name() + " needs --type mariabackup");
    }
  }
  return Status::Ok();
}

Status ConfigureMariabackup(const MariabackupOptions& options, Plan* plan) {
  auto refuse = [](const std::string& why) { return Status(Code::kInvalidArgument, why); };
  if (plan->overwrite) return refuse("--overwrite: not with --type mariabackup (DIR is empty)");
  if (!plan->same_owner || !plan->devices || !plan->setuid) {
    return refuse(
        "--no-same-owner, --no-devices, --no-setuid: not with --type mariabackup (mbstream "
        "writes the files)");
  }
  if (plan->checksum) {
    return refuse(
        "--checksum: not with --type mariabackup (there is no file list to re-read: "
        "the stream is checked as it arrives)");
  }
  if (options.mariadb_backup.empty() || options.mbstream.empty() || options.mariadb.empty()) {
    return refuse("--mariadb-backup, --mbstream and --mariadb must not be empty");
  }
  XFER_RETURN_IF_ERROR(CheckOptions("--backup-option", options.backup_options));
  XFER_RETURN_IF_ERROR(CheckOptions("--prepare-option", options.prepare_options));
  if (options.parallel < 1) return refuse("--parallel must be at least 1");
  plan->resume = false;  // a stream: its programs keep nothing, and say so with --no-resume
  plan->send_exec = cli::ShellCommand(BackupCommand(options, plan->source.path));
  plan->recv_exec = cli::ShellCommand(ExtractCommand(options));
  return Status::Ok();
}

std::vector<std::string> OptionFileOptions(const std::vector<std::string>& options) {
  std::vector<std::string> files;
  for (const std::string& option : options) {
    if (IsOptionFileOption(option)) files.push_back(option);
  }
  return files;
}

std::vector<std::string> BackupCommand(const MariabackupOptions& options,
                                       const std::string& socket) {
  std::vector<std::string> argv{options.mariadb_backup};
  std::vector<std::string> files = OptionFileOptions(options.backup_options);
  argv.insert(argv.end(), files.begin(), files.end());
  argv.insert(argv.end(), {"--backup", "--stream=xbstream", "--socket=" + socket,
                           "--parallel=" + std::to_string(options.parallel)});
  if (!options.user.empty()) argv.push_back("--user=" + options.user);
  for (const std::string& option : options.backup_options) {
    if (!IsOptionFileOption(option)) argv.push_back(option);
  }
  return argv;
}

std::vector<std::string> ExtractCommand(const MariabackupOptions& options) {
  return {options.mbstream, "-x"};
}

std::vector<std::string> PrepareCommand(const MariabackupOptions& options, const std::string& dir) {
  std::vector<std::string> argv{options.mariadb_backup};
  std::vector<std::string> files = OptionFileOptions(options.prepare_options);
  argv.insert(argv.end(), files.begin(), files.end());
  argv.insert(argv.end(), {"--prepare", "--target-dir=" + dir});
  for (const std::string& option : options.prepare_options) {
    if (!IsOptionFileOption(option)) argv.push_back(option);
  }
  return argv;
}

std::vector<std::string> ClientCommand(const MariabackupOptions& options, const std::string& socket,
                                       const std::string& statement) {
  std::vector<std::string> argv{options.mariadb};
  std::vector<std::string> files = OptionFileOptions(options.backup_options);
  argv.insert(argv.end(), files.begin(), files.end());
  argv.push_back("--socket=" + socket);
  if (!options.user.empty()) argv.push_back("--user=" + options.user);
  argv.insert(argv.end(), {"--batch", "--execute=" + statement});
  return argv;
}

}  // namespace xfer::orchestrator
