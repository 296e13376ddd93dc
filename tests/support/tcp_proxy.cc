#include "tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

namespace xfer::testing {

namespace {

// Every wait is bounded: a test that stalls fails instead of hanging.
constexpr int kPollMs = 60000;

int ConnectLoopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
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

}  // namespace

TcpProxy::TcpProxy(uint16_t target_port, Tamper tamper)
    : target_port_(target_port), tamper_(std::move(tamper)) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  stop_fd_ = eventfd(0, EFD_CLOEXEC);
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
  int server = ConnectLoopback(target_port_);
  uint64_t upstream_offset = 0;
  uint8_t buf[65536];
  bool client_open = true;
  while (server >= 0) {
    pollfd fds[3] = {{client_open ? client : -1, POLLIN, 0}, {server, POLLIN, 0},
                     {stop_fd_, POLLIN, 0}};
    if (poll(fds, 3, kPollMs) <= 0 || fds[2].revents) break;
    if (fds[0].revents) {
      ssize_t n = recv(client, buf, sizeof buf, 0);
      if (n <= 0) {
        shutdown(server, SHUT_WR);  // pass the half-close on; the answer may still come back
        client_open = false;
      } else {
        if (!tamper_(upstream_offset, buf, static_cast<size_t>(n))) break;
        upstream_offset += static_cast<uint64_t>(n);
        if (!WriteAll(server, buf, static_cast<size_t>(n))) break;
      }
    }
    if (fds[1].revents) {
      ssize_t n = recv(server, buf, sizeof buf, 0);
      if (n <= 0 || !WriteAll(client, buf, static_cast<size_t>(n))) break;
    }
  }
  // Closing both ends is what a cut cable looks like to a process that still waits.
  if (server >= 0) close(server);
  close(client);
}

}  // namespace xfer::testing
