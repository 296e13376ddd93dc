// What a test can tell about a connection from its own end without disturbing it.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "deadline.h"
#include "socket.h"

namespace xfer::testing {

// The peer closed the connection (or reset it) before `deadline`. What it said before closing
// (a server that turns a client away may answer with a TLS alert first) is read and dropped.
inline bool ClosedByPeer(const Socket& socket, Deadline deadline) {
  char bytes[256];
  for (;;) {
    if (!WaitFd(socket.fd(), POLLIN, deadline, nullptr, nullptr).ok()) return false;
    if (recv(socket.fd(), bytes, sizeof bytes, MSG_DONTWAIT) <= 0 && errno != EAGAIN) return true;
  }
}

// The peer has neither closed nor sent anything.
inline bool StillOpen(const Socket& socket) {
  char byte;
  return recv(socket.fd(), &byte, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

}  // namespace xfer::testing
