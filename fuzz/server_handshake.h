// The harness both handshake targets share: the server side of a channel, fed the fuzzer's bytes
// as everything the client sends.
//
// The bytes go into one end of a non-blocking AF_UNIX socketpair, whose write side is then shut,
// so the server reads them and then an end of stream: no threads, no timing, and every run ends
// as soon as the server gives up. The server's own messages pile up unread in the client end.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "channel.h"

namespace xfer {

inline void RunServerHandshake(const uint8_t* data, size_t size, bool encrypt) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
  Socket client(fds[0]);
  Socket server(fds[1]);
  // Inputs past the socket buffer (about 200 KiB) are cut: a handshake never needs that much.
  while (size > 0) {
    ssize_t n = send(client.fd(), data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data += n;
    size -= static_cast<size_t>(n);
  }
  shutdown(client.fd(), SHUT_WR);

  ChannelParams params;
  params.secret.fill(0x5a);  // fixed, so runs are reproducible
  params.encrypt = encrypt;
  std::unique_ptr<Channel> channel;
  // All input is there before the server starts, so it never needs to wait for the deadline.
  Status status = OpenServerChannel(std::move(server), params,
                                    Deadline::After(std::chrono::seconds(10)), nullptr, &channel);
  // Success would mean a peer authenticated without seeing the server's nonce or key share: the
  // fuzzer cannot know the secret-derived answer, so that is an authentication bypass.
  if (status.ok()) std::abort();
  // Waiting out the deadline with the whole input read and the stream ended is a hang.
  if (status.code() == Code::kTimeout) std::abort();
}

}  // namespace xfer
