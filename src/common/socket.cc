// TCP sockets for xfer: every fd is non-blocking and close-on-exec, so that every wait goes
// through WaitFd, where the deadline and the cancel token are honoured.
#include "socket.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace xfer {

namespace {

// Connect, bind and accept failures are all "the network said no" to the caller, whatever errno
// says (EADDRINUSE, EADDRNOTAVAIL, ENETDOWN, ...).
Status NetError(int err, const std::string& context) {
  return Status(Code::kNetwork, context + ": " + std::strerror(err));
}

// Keepalive notices a peer that vanished without a FIN (power loss, cable) within about a minute
// (30 s idle + 3 probes 10 s apart) instead of the kernel's two hours. The user timeout does the
// same while our data goes unacknowledged, where keepalive does not probe: the connection fails
// after 60 s (ETIMEDOUT) instead of 15 minutes of retransmissions; it also caps the keepalive
// probing to the same minute. Buffer sizes are left to the kernel's autotuning, which does
// better on fast links than any fixed value. These are tuning only: a socket that refuses one
// still works, so failures are ignored.
void TuneConnection(int fd) {
  int one = 1;
  int idle = 30, interval = 10, count = 3;
  unsigned int user_timeout_ms = (idle + interval * count) * 1000;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
  (void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
}

std::string FormatSockaddr(const sockaddr* addr, socklen_t len) {
  char host[NI_MAXHOST];
  char serv[NI_MAXSERV];
  if (getnameinfo(addr, len, host, sizeof host, serv, sizeof serv,
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "unknown address";
  }
  std::string h = host;
  // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d; people know them as a.b.c.d.
  if (addr->sa_family == AF_INET6 &&
      IN6_IS_ADDR_V4MAPPED(&reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr) &&
      h.rfind("::ffff:", 0) == 0) {
    h = h.substr(7);
  }
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  return h + ":" + serv;
}

std::string LocalName(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "unknown address";
  return FormatSockaddr(reinterpret_cast<sockaddr*>(&addr), len);
}

// *err gets the errno of a failure, so the caller can decide whether to try another family.
Status ListenOn(const sockaddr* addr, socklen_t len, Socket* out, int* err) {
  std::string where = "listening on " + FormatSockaddr(addr, len);
  Socket s(socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!s.valid()) return NetError(*err = errno, where);
  int one = 1, zero = 0;
  // Lets a restarted receiver reuse a port whose old connections linger in TIME_WAIT.
  (void)setsockopt(s.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // One IPv6 socket serves IPv4 peers too, whatever the host's bindv6only default.
  if (addr->sa_family == AF_INET6) {
    (void)setsockopt(s.fd(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  }
  if (bind(s.fd(), addr, len) != 0) return NetError(*err = errno, where);
  if (listen(s.fd(), SOMAXCONN) != 0) return NetError(*err = errno, where);
  *out = std::move(s);
  return Status::Ok();
}

Status ListenAnywhere(uint16_t port, Socket* out) {
  sockaddr_in6 any6{};
  any6.sin6_family = AF_INET6;
  any6.sin6_addr = in6addr_any;
  any6.sin6_port = htons(port);
  int err = 0;
  Status status = ListenOn(reinterpret_cast<sockaddr*>(&any6), sizeof any6, out, &err);
  if (status.ok()) return status;
  // A taken port is taken for IPv4 too; anything else probably means "no IPv6 here".
  if (err == EADDRINUSE || err == EACCES) return status;
  sockaddr_in any4{};
  any4.sin_family = AF_INET;
  any4.sin_addr.s_addr = htonl(INADDR_ANY);
  any4.sin_port = htons(port);
  return ListenOn(reinterpret_cast<sockaddr*>(&any4), sizeof any4, out, &err);
}

}  // namespace

Socket::~Socket() {
  if (fd_ >= 0) close(fd_);
}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.release();
  }
  return *this;
}

std::string PeerName(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "unknown peer";
  return FormatSockaddr(reinterpret_cast<sockaddr*>(&addr), len);
}

std::string JoinHostPort(const std::string& host, uint16_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Status ListenTcp(const std::string& address, uint16_t port, Socket* out, uint16_t* bound_port) {
  Socket listener;
  if (address.empty()) {
    XFER_RETURN_IF_ERROR(ListenAnywhere(port, &listener));
  } else {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* result = nullptr;
    std::string where = "listening on " + JoinHostPort(address, port);
    int rc = getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &result);
    if (rc != 0) return Status(Code::kNetwork, where + ": " + gai_strerror(rc));
    Status status(Code::kNetwork, where + ": no usable address");
    for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
      int err = 0;
      status = ListenOn(ai->ai_addr, ai->ai_addrlen, &listener, &err);
      if (status.ok()) break;
    }
    freeaddrinfo(result);
    XFER_RETURN_IF_ERROR(status);
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(listener.fd(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return NetError(errno, "listening on " + JoinHostPort(address, port));
  }
  if (bound_port != nullptr) {
    *bound_port = addr.ss_family == AF_INET6
                      ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                      : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  }
  *out = std::move(listener);
  return Status::Ok();
}

Status AcceptTcp(const Socket& listener, Deadline deadline, const CancelToken* cancel, Socket* out,
                 std::string* peer) {
  for (;;) {
    if (cancel != nullptr && cancel->IsCancelled()) {
      return Status(Code::kCancelled,
                    "waiting for a connection on " + LocalName(listener.fd()) + ": cancelled");
    }
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    int fd = accept4(listener.fd(), reinterpret_cast<sockaddr*>(&addr), &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      TuneConnection(fd);
      if (peer != nullptr) *peer = FormatSockaddr(reinterpret_cast<sockaddr*>(&addr), len);
      *out = Socket(fd);
      return Status::Ok();
    }
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      Status status = WaitFd(listener.fd(), POLLIN, deadline, cancel, nullptr);
      if (!status.ok()) {
        return status.WithContext("waiting for a connection on " + LocalName(listener.fd()));
      }
      continue;
    }
    // accept(2): errors of the pending connection itself show up here; that one is gone, the
    // listener is fine.
    switch (err) {
      case EINTR:
      case ECONNABORTED:
      case EPROTO:
      case ENETDOWN:
      case ENOPROTOOPT:
      case EHOSTDOWN:
      case ENONET:
      case EHOSTUNREACH:
      case ENETUNREACH:
      case EPERM:  // a firewall rule refused this one
        continue;
      default:
        return NetError(err, "accepting on " + LocalName(listener.fd()));
    }
  }
}

Status ConnectTcp(const std::string& host, uint16_t port, Deadline deadline,
                  const CancelToken* cancel, Socket* out) {
  std::string where = "connecting to " + JoinHostPort(host, port);
  if (cancel != nullptr && cancel->IsCancelled()) {
    return Status(Code::kCancelled, where + ": cancelled");
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* result = nullptr;
  // Name resolution cannot be interrupted; on a LAN it is quick, and the deadline still bounds
  // the connect that follows.
  int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &result);
  if (rc != 0) {
    std::string why = rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc);
    // Not kNetwork, which a sender takes for a receiver not ready yet and connects again: a
    // resolver that fails, even "for now" (EAI_AGAIN, no DNS server answering), would make it
    // wait out its whole --timeout for a name it will not get (as firewall.cc reports it too).
    return Status(Code::kInvalidArgument, where + ": " + why);
  }
  Status status(Code::kNetwork, where + ": no address to connect to");
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    Socket s(socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
    if (!s.valid()) {
      status = NetError(errno, where);
      continue;
    }
    TuneConnection(s.fd());
    if (connect(s.fd(), ai->ai_addr, ai->ai_addrlen) != 0) {
      int err = errno;
      // EINTR leaves a non-blocking connect running, just like EINPROGRESS.
      if (err != EINPROGRESS && err != EINTR) {
        status = NetError(err, where);
        continue;
      }
      Status waited = WaitFd(s.fd(), POLLOUT, deadline, cancel, nullptr);
      if (!waited.ok()) {
        status = waited.WithContext(where);
        break;  // the deadline is shared by all addresses; a cancel means stop
      }
      int so_error = 0;
      socklen_t len = sizeof so_error;
      if (getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) so_error = errno;
      if (so_error != 0) {
        status = NetError(so_error, where);
        continue;
      }
    }
    *out = std::move(s);
    status = Status::Ok();
    break;
  }
  freeaddrinfo(result);
  return status;
}

Status WaitFd(int fd, short events, Deadline deadline, const CancelToken* cancel, short* revents) {
  pollfd fds[2] = {{fd, events, 0}, {cancel != nullptr ? cancel->fd() : -1, POLLIN, 0}};
  nfds_t count = cancel != nullptr ? 2 : 1;
  for (;;) {
    // Checked before polling, so a token cancelled earlier wins over a ready fd.
    if (cancel != nullptr && cancel->IsCancelled()) return Status(Code::kCancelled, "cancelled");
    int n = poll(fds, count, deadline.PollTimeoutMs());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "poll");
    }
    if (count == 2 && fds[1].revents != 0) return Status(Code::kCancelled, "cancelled");
    if (fds[0].revents & POLLNVAL) return Status(Code::kIoError, "poll: not an open descriptor");
    if (fds[0].revents != 0) {
      if (revents != nullptr) *revents = fds[0].revents;
      return Status::Ok();
    }
    // poll's timeout is capped (and rounded); only the deadline itself says we are done.
    if (deadline.Expired()) return Status(Code::kTimeout, "timed out");
  }
}

bool PeerIsLocal(int fd) {
  sockaddr_storage local{}, peer{};
  socklen_t local_len = sizeof local, peer_len = sizeof peer;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0 ||
      getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) {
    return false;
  }
  if (peer.ss_family == AF_INET) {
    const auto& p = reinterpret_cast<const sockaddr_in&>(peer);
    const auto& l = reinterpret_cast<const sockaddr_in&>(local);
    return (ntohl(p.sin_addr.s_addr) >> 24) == 127 || p.sin_addr.s_addr == l.sin_addr.s_addr;
  }
  if (peer.ss_family == AF_INET6) {
    const auto& p = reinterpret_cast<const sockaddr_in6&>(peer);
    const auto& l = reinterpret_cast<const sockaddr_in6&>(local);
    if (IN6_IS_ADDR_LOOPBACK(&p.sin6_addr)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&p.sin6_addr) && p.sin6_addr.s6_addr[12] == 127) return true;
    return std::memcmp(&p.sin6_addr, &l.sin6_addr, sizeof p.sin6_addr) == 0;
  }
  return false;
}

}  // namespace xfer
