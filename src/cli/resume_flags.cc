#include "resume_flags.h"

#include <cstdio>

#include "cli_common.h"

namespace xfer::cli {

void AddResumeFlags(CLI::App* app, const std::string& resume_help, const std::string& what,
                    ResumeFlags* flags) {
  CLI::Option* resume = app->add_flag("--resume", flags->resume, resume_help);
  app->add_flag("--no-resume", flags->no_resume, "Start over: " + what)->excludes(resume);
}

bool ApplyResumeFlags(std::string_view program, const ResumeFlags& flags, bool resumable,
                      const std::string& why_not, bool* resume) {
  *resume = !flags.no_resume;
  if (flags.resume && !resumable) {
    std::fprintf(stderr, "%.*s: error: --resume: %s\n", static_cast<int>(program.size()),
                 program.data(), why_not.c_str());
    return false;
  }
  return true;
}

int ReportFailure(std::string_view program, const Status& status, const Report& report, FILE* lines,
                  bool json) {
  if (report.kept_in.empty()) return ReportError(program, status, json);
  std::fprintf(lines,
               "{\"event\":\"error\",\"code\":\"%s\",\"error\":%s,\"interrupted\":%s,"
               "\"kept_files\":%llu,\"kept_bytes\":%llu,\"kept_in\":%s}\n",
               ErrorCodeName(status.code()), JsonString(status.message()).c_str(),
               status.code() == Code::kCancelled ? "true" : "false",
               static_cast<unsigned long long>(report.kept_files),
               static_cast<unsigned long long>(report.kept_bytes),
               JsonString(report.kept_in).c_str());
  std::fflush(lines);
  std::string where = report.kept_in + " (" + std::to_string(report.kept_files) + " files)";
  // "error: WHY; ..." (or "error: interrupted: ..."): the reason stays where scripts look for it.
  std::string kept = KeptNote(report.kept_bytes, where);
  std::string verdict =
      status.code() == Code::kCancelled ? "interrupted: " + kept : status.message() + "; " + kept;
  std::fprintf(stderr, "%.*s: error: %s\n", static_cast<int>(program.size()), program.data(),
               verdict.c_str());
  return kExitFailed;
}

}  // namespace xfer::cli
