// Helpers for end-to-end tests that run the real xfer-recv and xfer-send binaries on loopback.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "child_process.h"

namespace xfer::testing {

// Starts xfer-recv on 127.0.0.1 for dest_dir and reads its ticket line.
// stdin_line, when given, is written to its stdin first (the downstream ticket of --forward).
std::unique_ptr<ChildProcess> StartReceiver(const std::string& dest_dir,
                                            const std::vector<std::string>& extra_args,
                                            std::string* ticket,
                                            const std::string& stdin_line = "");

// Starts xfer-send to 127.0.0.1 with the ticket on its stdin.
std::unique_ptr<ChildProcess> StartSender(const std::string& ticket,
                                          const std::vector<std::string>& paths,
                                          const std::vector<std::string>& extra_args = {});

// Starts xfer-send with one --to 127.0.0.1 per ticket and the tickets on its stdin, one line
// each, in that order.
std::unique_ptr<ChildProcess> StartSenderToAll(const std::vector<std::string>& tickets,
                                               const std::vector<std::string>& paths,
                                               const std::vector<std::string>& extra_args = {});

// The same ticket pointing at another port (a proxy in front of the receiver).
std::string TicketWithPort(const std::string& ticket, uint16_t port);

// The names in dir, sorted (hidden ones included), to prove a failed transfer changed nothing.
std::vector<std::string> ListDir(const std::string& dir);
// ListDir without leftover ".xfer-staging-*" entries (what a receiver killed with -9 leaves).
std::vector<std::string> ListDirIgnoringStaging(const std::string& dir);

// Writes size bytes of incompressible data.
void WriteRandomFile(const std::string& path, size_t size, unsigned seed = 1);

}  // namespace xfer::testing
