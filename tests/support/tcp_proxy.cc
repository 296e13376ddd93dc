#include "tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace xfer::testing {

namespace {

// Every wait is bounded: a test that stalls fails instead of hanging.
constexpr int kPollMs = 60000;

// Small buffers must be set before listen() or connect(): the TCP window scale is fixed then.
void SetBuffers(int fd, int bytes) {
  if (bytes <= 0) return;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

int ConnectLoopback(uint16_t port, int buffer_bytes) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  SetBuffers(fd, buffer_bytes);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool WriteAll(int fd, const uint8_t* data, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

TcpProxy::Hooks HooksFromTamper(TcpProxy::Tamper tamper) {
  TcpProxy::Hooks hooks;
  hooks.upstream = [tamper = std::move(tamper)](uint64_t offset, uint8_t* data, size_t len) {
    if (tamper(offset, data, len)) return TcpProxy::Decision{};
    return TcpProxy::Decision{0, TcpProxy::Decision::Then::kCut};
  };
  return hooks;
}

}  // namespace

TcpProxy::TcpProxy(uint16_t target_port, Tamper tamper)
    : TcpProxy(target_port, HooksFromTamper(std::move(tamper))) {}

TcpProxy::TcpProxy(uint16_t target_port, Hooks hooks)
    : target_port_(target_port), hooks_(std::move(hooks)) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  stop_fd_ = eventfd(0, EFD_CLOEXEC);
  SetBuffers(listener_, hooks_.socket_buffer_bytes);  // accepted sockets inherit them
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listener_, 16) != 0 ||
      getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::abort();
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TcpProxy::~TcpProxy() {
  uint64_t one = 1;
  ssize_t ignored = write(stop_fd_, &one, sizeof one);
  (void)ignored;
  acceptor_.join();
  for (std::thread& t : connections_) t.join();
  close(listener_);
  close(stop_fd_);
}

void TcpProxy::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listener_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 2, kPollMs) <= 0 || fds[1].revents) return;
    int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client >= 0) connections_.emplace_back([this, client] { Serve(client); });
  }
}

void TcpProxy::Serve(int client) {
  using Then = Decision::Then;
  int server = ConnectLoopback(target_port_, hooks_.socket_buffer_bytes);
  uint64_t upstream_offset = 0;
  uint8_t buf[65536];
  bool client_open = true;
  Then ending = Then::kContinue;
  while (server >= 0 && ending == Then::kContinue) {
    pollfd fds[3] = {
        {client_open ? client : -1, POLLIN, 0}, {server, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (poll(fds, 3, kPollMs) <= 0 || fds[2].revents) break;
    if (fds[0].revents) {
      ssize_t n = recv(client, buf, sizeof buf, 0);
      if (hooks_.rewrite_upstream) {
        std::vector<uint8_t> out = hooks_.rewrite_upstream(buf, n > 0 ? static_cast<size_t>(n) : 0);
        if (!out.empty() && !WriteAll(server, out.data(), out.size())) break;
      }
      if (n <= 0) {
        shutdown(server, SHUT_WR);  // pass the half-close on; the answer may still come back
        client_open = false;
      } else if (!hooks_.rewrite_upstream) {
        // The piece may be split: each part is offered to the interceptor at its own offset.
        size_t size = static_cast<size_t>(n);
        size_t done = 0;
        while (done < size && ending == Then::kContinue) {
          Decision d = hooks_.upstream ? hooks_.upstream(upstream_offset, buf + done, size - done)
                                       : Decision{};
          // Forwarding nothing and going on would offer the same bytes forever: forward all.
          size_t len = std::min(d.forward, size - done);
          if (len == 0 && d.then == Then::kContinue) len = size - done;
          if (len > 0 && !WriteAll(server, buf + done, len)) {
            ending = Then::kCut;
            break;
          }
          upstream_offset += len;
          done += len;
          ending = d.then;
        }
      }
    }
    if (ending == Then::kContinue && fds[1].revents) {
      ssize_t n = recv(server, buf, sizeof buf, 0);
      if (n > 0 && hooks_.on_reply) hooks_.on_reply(upstream_offset, static_cast<size_t>(n));
      if (n <= 0 || !WriteAll(client, buf, static_cast<size_t>(n))) break;
    }
  }
  if (ending == Then::kEndStream && server >= 0) DrainUntilClosed(client, server);
  // Closing both ends is what a cut cable looks like to a process that still waits.
  if (server >= 0) close(server);
  close(client);
}

void TcpProxy::DrainUntilClosed(int client, int server) {
  shutdown(server, SHUT_WR);
  shutdown(client, SHUT_WR);
  // Reading on until each peer closes: closing a socket with unread data would send a reset.
  bool open[2] = {true, true};
  uint8_t buf[65536];
  while (open[0] || open[1]) {
    pollfd fds[3] = {{open[0] ? client : -1, POLLIN, 0},
                     {open[1] ? server : -1, POLLIN, 0},
                     {stop_fd_, POLLIN, 0}};
    if (poll(fds, 3, kPollMs) <= 0 || fds[2].revents) return;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents && recv(fds[i].fd, buf, sizeof buf, 0) <= 0) open[i] = false;
    }
  }
}

}  // namespace xfer::testing
