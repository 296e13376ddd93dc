// What a test can tell about a connection from its own end without disturbing it.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "deadline.h"
#include "socket.h"

namespace xfer::testing {

// The peer closed the connection (or reset it) before `deadline`.
inline bool ClosedByPeer(const Socket& socket, Deadline deadline) {
  if (!WaitFd(socket.fd(), POLLIN, deadline, nullptr, nullptr).ok()) return false;
  char byte;
  return recv(socket.fd(), &byte, 1, 0) <= 0;
}

// The peer has neither closed nor sent anything.
inline bool StillOpen(const Socket& socket) {
  char byte;
  return recv(socket.fd(), &byte, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

}  // namespace xfer::testing
