// TcpProxy: a man in the middle on loopback for fault tests. It forwards each connection made to
// 127.0.0.1:port() to 127.0.0.1:target_port, and shows every client-to-server piece to a tamper
// function first, which may change bytes, act (kill a process), or cut the connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace xfer::testing {

class TcpProxy {
 public:
  // offset: how many client-to-server bytes of this connection came before data. Return false to
  // cut the connection (both directions) instead of forwarding.
  using Tamper = std::function<bool(uint64_t offset, uint8_t* data, size_t len)>;

  TcpProxy(uint16_t target_port, Tamper tamper);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  uint16_t port() const { return port_; }

 private:
  void AcceptLoop();
  void Serve(int client);

  uint16_t target_port_;
  Tamper tamper_;
  int listener_ = -1;
  int stop_fd_ = -1;  // eventfd that ends every loop
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> connections_;
};

}  // namespace xfer::testing
