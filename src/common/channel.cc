// Picks the channel implementation the ticket asks for.
#include "channel.h"

#include <utility>

namespace xfer {

Status OpenClientChannel(Socket socket, const ChannelParams& params, Deadline deadline,
                         const CancelToken* cancel, std::unique_ptr<Channel>* out) {
  if (params.encrypt) {
    return OpenTlsChannel(std::move(socket), params.secret, ChannelRole::kClient, deadline, cancel,
                          out);
  }
  return OpenPlainChannel(std::move(socket), params.secret, ChannelRole::kClient, deadline, cancel,
                          out);
}

Status OpenServerChannel(Socket socket, const ChannelParams& params, Deadline deadline,
                         const CancelToken* cancel, std::unique_ptr<Channel>* out) {
  if (params.encrypt) {
    return OpenTlsChannel(std::move(socket), params.secret, ChannelRole::kServer, deadline, cancel,
                          out);
  }
  return OpenPlainChannel(std::move(socket), params.secret, ChannelRole::kServer, deadline, cancel,
                          out);
}

}  // namespace xfer
