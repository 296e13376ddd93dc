// Socket: an owned, non-blocking TCP socket, and the calls that make one (listen, accept, connect).
// Every blocking step takes a Deadline and a CancelToken.
#pragma once

#include <cstdint>
#include <string>

#include "deadline.h"
#include "xfer/cancel.h"
#include "xfer/status.h"

namespace xfer {

class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket();
  Socket(Socket&& other) noexcept : fd_(other.release()) {}
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// Binds and listens. address "" means every address (IPv6 dual-stack, or IPv4 where the host has no
// IPv6); port 0 lets the kernel pick a free port, returned in *bound_port.
Status ListenTcp(const std::string& address, uint16_t port, Socket* out, uint16_t* bound_port);

// Waits for one connection. *peer gets "ADDR:PORT" for log lines.
Status AcceptTcp(const Socket& listener, Deadline deadline, const CancelToken* cancel, Socket* out,
                 std::string* peer);

// Resolves host (name, IPv4 or IPv6 literal) and connects, trying each address in turn.
Status ConnectTcp(const std::string& host, uint16_t port, Deadline deadline,
                  const CancelToken* cancel, Socket* out);

// "ADDR:PORT" of the connected peer of fd ("[ADDR]:PORT" for IPv6), for messages and logs.
std::string PeerName(int fd);

// "host:port", or "[host]:port" when host is an IPv6 literal.
std::string JoinHostPort(const std::string& host, uint16_t port);

// Waits until fd is readable (events=POLLIN) or writable (POLLOUT). Returns kTimeout or kCancelled
// when the deadline passes or the token fires first. *revents gets what poll reported.
Status WaitFd(int fd, short events, Deadline deadline, const CancelToken* cancel, short* revents);

// True when the connected socket's peer is on this host: a loopback address, or the same
// address as our end.
bool PeerIsLocal(int fd);

}  // namespace xfer
