// The programs under test, where CMake built them, for tests that assemble their own command
// lines (in another network namespace, say) instead of using transfer_harness.
#pragma once

namespace xfer::testing {

const char* XferRecvPath();
const char* XferSendPath();

}  // namespace xfer::testing
