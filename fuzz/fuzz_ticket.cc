// Fuzz target: Ticket::Parse, the receiver's ticket line as the sender reads it from stdin.
//
// Property checked beyond "no crash": a ticket that parses formats back to a line that parses to
// the same ticket (the base64url decoder accepts exactly one spelling per secret).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "xfer/ticket.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  xfer::Ticket ticket;
  if (!xfer::Ticket::Parse(text, &ticket).ok()) return 0;
  xfer::Ticket again;
  if (!xfer::Ticket::Parse(ticket.Format(), &again).ok() || again.port != ticket.port ||
      again.secret != ticket.secret || again.encrypt != ticket.encrypt) {
    std::abort();
  }
  return 0;
}
