// --resume and --no-resume, which both programs take, and the verdict of a failed transfer that
// kept what it received for the same command run again.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>

#include "xfer/report.h"
#include "xfer/status.h"

namespace xfer::cli {

struct ResumeFlags {
  bool resume = false;     // given explicitly: resuming is the default anyway
  bool no_resume = false;  // start over
};
// `what` ends the help of --no-resume: what starting over means for this program.
void AddResumeFlags(CLI::App* app, const std::string& resume_help, const std::string& what,
                    ResumeFlags* flags);

// The options' resume: !--no-resume. An explicit --resume for a transfer that is not resumable
// (`resumable` false: a stream, a command's input, an archive) is refused: false, with
// "PROGRAM: error: --resume: WHY_NOT" printed.
bool ApplyResumeFlags(std::string_view program, const ResumeFlags& flags, bool resumable,
                      const std::string& why_not, bool* resume);

// A receiver's failure: with something kept, one JSON line on `lines` for `xfer`
// ({"event":"error","code":CODE,"error":WHY,"interrupted":BOOL,"kept_files":N,"kept_bytes":N,
// "kept_in":DIR}) and "PROGRAM: error: WHY; " + KeptNote (or "interrupted: " + KeptNote) on
// stderr; otherwise as ReportError(program, status, json).
// Returns kExitFailed.
int ReportFailure(std::string_view program, const Status& status, const Report& report, FILE* lines,
                  bool json);

}  // namespace xfer::cli
