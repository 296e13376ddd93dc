// TcpProxy: a man in the middle on loopback for fault tests. It forwards each connection made to
// 127.0.0.1:port() to 127.0.0.1:target_port, and shows every client-to-server piece to a tamper
// function first, which may change bytes, act (kill a process), or cut the connection; or hands
// the client's whole stream to a rewriter that sends on what it likes, where it likes.
#pragma once

#include <atomic>
#include <cstddef>
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

  // What to do with a client-to-server piece, for faults placed at an exact byte: pass the first
  // `forward` bytes on (all of them by default), then
  //   kContinue:  offer the rest of the piece, if any, in a new call (at offset + forward);
  //   kCut:       close both sockets at once (a pulled cable: the peers may see a reset);
  //   kEndStream: end both directions cleanly (shutdown(SHUT_WR): an orderly FIN, never a
  //               reset), then read and drop whatever either peer still sends until it closes.
  struct Decision {
    enum class Then { kContinue, kCut, kEndStream };
    size_t forward = SIZE_MAX;
    Then then = Then::kContinue;
  };
  using Interceptor = std::function<Decision(uint64_t offset, uint8_t* data, size_t len)>;

  struct Hooks {
    Interceptor upstream;  // empty: forward everything
    // Instead of upstream: gets each client-to-server piece (an empty one once the client ended
    // its direction) and returns the bytes to forward in its place. It may keep bytes back,
    // drop them, or send more than it got.
    std::function<std::vector<uint8_t>(const uint8_t* data, size_t len)> rewrite_upstream;
    // Called before each server-to-client piece is forwarded, with the count of client-to-server
    // bytes forwarded so far: where in the client's stream each answer of the server came.
    std::function<void(uint64_t upstream_offset, size_t len)> on_reply;
    // SO_RCVBUF and SO_SNDBUF of the proxy's sockets; 0 keeps the kernel's autotuning. Small
    // buffers keep a fast client from parking most of its stream inside the proxy's kernel
    // buffers, so that "the client reached byte R" means about R, not R plus megabytes.
    int socket_buffer_bytes = 0;
  };

  TcpProxy(uint16_t target_port, Tamper tamper);
  TcpProxy(uint16_t target_port, Hooks hooks);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  uint16_t port() const { return port_; }

 private:
  void AcceptLoop();
  void Serve(int client);
  // After kEndStream: drops what either peer still sends until both closed (or the proxy stops).
  void DrainUntilClosed(int client, int server);

  uint16_t target_port_;
  Hooks hooks_;
  int listener_ = -1;
  int stop_fd_ = -1;  // eventfd that ends every loop
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::vector<std::thread> connections_;
};

}  // namespace xfer::testing
