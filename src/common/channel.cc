// Picks the channel implementation the ticket asks for.
#include "channel.h"

#include <utility>

namespace xfer {

namespace {

Status OpenChannel(Socket socket, const ChannelParams& params, ChannelRole role, Deadline deadline,
                   const CancelToken* cancel, std::unique_ptr<Channel>* out) {
  return params.encrypt
             ? OpenTlsChannel(std::move(socket), params.secret, role, deadline, cancel, out)
             : OpenPlainChannel(std::move(socket), params.secret, role, deadline, cancel, out);
}

}  // namespace

Status OpenClientChannel(Socket socket, const ChannelParams& params, Deadline deadline,
                         const CancelToken* cancel, std::unique_ptr<Channel>* out) {
  return OpenChannel(std::move(socket), params, ChannelRole::kClient, deadline, cancel, out);
}

Status OpenServerChannel(Socket socket, const ChannelParams& params, Deadline deadline,
                         const CancelToken* cancel, std::unique_ptr<Channel>* out) {
  return OpenChannel(std::move(socket), params, ChannelRole::kServer, deadline, cancel, out);
}

}  // namespace xfer
