// What a test can tell about a connection from its own end without disturbing it.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

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

// A connection to 127.0.0.1:port from another loopback address (127.0.0.0/8 is all ours): another
// source, as far as the receiver can tell. False when bind or connect failed (errno says why).
inline bool TryConnectFrom(const char* source, uint16_t port, Socket* out) {
  Socket socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, source, &local.sin_addr);
  sockaddr_in receiver{};
  receiver.sin_family = AF_INET;
  receiver.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &receiver.sin_addr);
  if (bind(socket.fd(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      connect(socket.fd(), reinterpret_cast<sockaddr*>(&receiver), sizeof receiver) != 0) {
    return false;
  }
  *out = std::move(socket);
  return true;
}

// A port on 127.0.0.1 where connecting is refused, and stays so while the returned socket lives:
// bound but not listening, so no other test's listener can take the port meanwhile (a port
// merely closed again may be handed out at once).
inline Socket RefusingPort(uint16_t* port) {
  Socket socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  socklen_t length = sizeof address;
  EXPECT_EQ(bind(socket.fd(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(getsockname(socket.fd(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  *port = ntohs(address.sin_port);
  return socket;
}

inline Socket ConnectFrom(const char* source, uint16_t port) {
  Socket socket;
  EXPECT_TRUE(TryConnectFrom(source, port, &socket)) << source << ": " << std::strerror(errno);
  return socket;
}

}  // namespace xfer::testing
