// Where a stream goes: a receiver's host and the ticket it printed.
#pragma once

#include <string>

#include "xfer/ticket.h"

namespace xfer {

struct Destination {
  std::string host;  // name or address the receiver listens on, as this side reaches it
  Ticket ticket;
};

}  // namespace xfer
