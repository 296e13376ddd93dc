// The closing lines of `xfer` (ProgressView::Summary): each failed target named with why, and a
// re-linked one said to be, on the terminal and in the JSON summary.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "progress_view.h"
#include "text_match.h"

namespace xfer::orchestrator {
namespace {

using xfer::testing::Contains;

std::vector<TargetState> OneDeadOneReLinked() {
  TargetState dead;
  dead.label = "db2:/srv";
  dead.finished = true;
  dead.error = "xfer-recv was killed (signal 9)";
  TargetState relinked;
  relinked.label = "db3:/srv";
  relinked.finished = relinked.ok = true;
  relinked.bytes = relinked.total_bytes = 5'000'000;
  relinked.relinked_around = "db2:/srv";
  return {dead, relinked};
}

TEST(ProgressSummary, TerminalLinesNameTheFailedTargetAndTheReLinkedOne) {
  ProgressView view(ProgressView::Mode::kQuiet);
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(view.Summary(OneDeadOneReLinked(), 1.0), 1u);
  std::string text = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(Contains(text, "xfer: db2:/srv: FAILED: xfer-recv was killed (signal 9)\n")) << text;
  EXPECT_TRUE(Contains(text, "xfer: db3:/srv: verified, 5.0 MB")) << text;
  EXPECT_TRUE(Contains(text, ", re-linked around db2:/srv\n")) << text;
}

TEST(ProgressSummary, JsonSummaryListsTheFailuresAndResultsTheReLinking) {
  ProgressView view(ProgressView::Mode::kJson);
  std::vector<TargetState> targets = OneDeadOneReLinked();
  ::testing::internal::CaptureStdout();
  for (const TargetState& t : targets) view.Result(t);
  view.Summary(targets, 1.0);
  std::string text = ::testing::internal::GetCapturedStdout();
  EXPECT_TRUE(Contains(text,
                       "\"failures\":[{\"target\":\"db2:/srv\",\"error\":\"xfer-recv was "
                       "killed (signal 9)\"}]}\n"))
      << text;
  EXPECT_TRUE(Contains(text, "\"relinked_around\":\"db2:/srv\"}\n")) << text;
}

}  // namespace
}  // namespace xfer::orchestrator
