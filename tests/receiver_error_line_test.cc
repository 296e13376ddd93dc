// xfer-recv --json's error line: the code by which `xfer` tells a target's own failure (its
// disk, its destination) from one that came from its upstream or the network.
#include <gtest/gtest.h>

#include <chrono>

#include "child_process.h"
#include "program_paths.h"
#include "temp_dir.h"
#include "text_match.h"

namespace xfer::testing {
namespace {

TEST(ReceiverErrorLine, AFailureNamesItsCodeOnStdout) {
  TempDir dir;
  ChildProcess receiver(
      {XferRecvPath(), "--json", "--timeout", "1", "--listen", "127.0.0.1", dir.path()});
  EXPECT_EQ(receiver.Wait(std::chrono::seconds(30)), 1);
  EXPECT_TRUE(Contains(receiver.stdout_text(),
                       "{\"event\":\"error\",\"code\":\"timeout\",\"error\":\"no sender "
                       "connected within 1 s\"}\n"))
      << receiver.stdout_text();
  EXPECT_TRUE(Contains(receiver.stderr_text(), "xfer-recv: error: no sender connected within 1 s"));
}

TEST(ReceiverErrorLine, WithoutJsonStdoutHoldsOnlyTheTicket) {
  TempDir dir;
  ChildProcess receiver({XferRecvPath(), "--timeout", "1", "--listen", "127.0.0.1", dir.path()});
  EXPECT_EQ(receiver.Wait(std::chrono::seconds(30)), 1);
  EXPECT_FALSE(Contains(receiver.stdout_text(), "\"event\":\"error\"")) << receiver.stdout_text();
}

}  // namespace
}  // namespace xfer::testing
