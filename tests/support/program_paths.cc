#include "program_paths.h"

namespace xfer::testing {

const char* XferRecvPath() { return XFER_RECV_BIN_PATH; }
const char* XferSendPath() { return XFER_SEND_BIN_PATH; }

}  // namespace xfer::testing
