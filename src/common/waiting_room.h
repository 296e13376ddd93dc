// WaitingRoom: the connections a receiver accepted and has not yet handed to its HandshakePool,
// and who goes next. It holds a descriptor and a few dozen bytes per connection, no thread, and
// at most `capacity` connections, so a flood costs a bounded amount whatever its size.
//
// Every connection has an absolute deadline to authenticate, counted from accept, ready or not.
// A connection is ready once its whole first message arrived (first_flight.h): a real sender
// sends it at once, a crowd that sends a byte and stalls never gets there. When the room is full
// the oldest connection that is not ready goes (the oldest of all only when every one is ready);
// a source address at its cap loses its own oldest instead, so that one address cannot push
// everyone else out. Handshake slots go to ready connections, from the address with the fewest
// handshakes running first, oldest first among equals: a crowd from a few addresses cannot queue
// in front of a sender elsewhere, and however fast a crowd of partial messages comes, it never
// pushes a ready sender out.
#pragma once

#include <poll.h>

#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "deadline.h"
#include "socket.h"

namespace xfer {

// The source address of "ADDR:PORT" or "[ADDR]:PORT": what a per-address cap counts.
std::string SourceOf(const std::string& peer);

class WaitingRoom {
 public:
  struct Entry {
    Socket socket;
    std::string peer;          // "ADDR:PORT", for logs
    Deadline deadline;         // to authenticate, counted from accept
    bool ready = false;        // its whole first message arrived: it may take a handshake slot
    std::string refused = {};  // why it is to go (set on an entry from AppendUnready), or empty
  };

  WaitingRoom(size_t capacity, size_t per_source) : capacity_(capacity), per_source_(per_source) {}

  // Lets entry in. Returns the connection it pushed out to make room, if any.
  std::optional<Entry> Admit(Entry entry);
  // Removes the connections past their deadline.
  std::vector<Entry> TakeExpired();
  // Removes the connections whose `refused` was set (see AppendUnready).
  std::vector<Entry> TakeRefused();
  // The ready connection to authenticate next (see above), or none.
  std::optional<Entry> TakeNextReady();
  // Handshakes running per source, which TakeNextReady weighs: its entry's handshake started,
  // and the one for peer ended.
  void HandshakeEnded(const std::string& peer);

  size_t size() const { return entries_.size(); }
  size_t ready() const { return ready_; }
  // The earliest deadline in the room.
  Deadline NextDeadline() const;
  // Appends a pollfd for each connection not ready yet, with the entry behind it.
  void AppendUnready(std::vector<pollfd>* fds, std::vector<Entry*>* entries);
  // Marks an entry from AppendUnready as ready.
  void MarkReady(Entry* entry);

 private:
  struct Load {
    size_t waiting = 0;
    size_t handshaking = 0;
  };

  // The oldest entry from source (any source: empty), preferring one not ready.
  std::deque<Entry>::iterator OldestOf(const std::string& source);
  std::vector<Entry> TakeIf(const std::function<bool(const Entry&)>& goes);
  Entry Remove(std::deque<Entry>::iterator it);
  void Release(const std::string& source, size_t Load::*count);

  const size_t capacity_;
  const size_t per_source_;
  std::deque<Entry> entries_;  // in accept order
  size_t ready_ = 0;
  // Only sources with a connection waiting or authenticating: bounded like the room and the pool.
  std::unordered_map<std::string, Load> loads_;
};

}  // namespace xfer
