// WaitingRoom: the connections a receiver accepted and has not yet handed to its HandshakePool,
// and who goes next. It holds a descriptor and a few dozen bytes per connection, no thread, and
// at most `capacity` connections, so a flood costs a bounded amount whatever its size.
//
// Every connection has an absolute deadline to authenticate, counted from accept, spoken or not.
// When the room is full the oldest connection goes; a source address at its cap loses its own
// oldest instead, so that one address cannot push everyone else out. Handshake slots go to the
// connections that spoke, from the address with the fewest handshakes running first, oldest
// first among equals: a crowd from a few addresses cannot queue in front of a sender elsewhere.
#pragma once

#include <poll.h>

#include <cstddef>
#include <deque>
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
    std::string peer;    // "ADDR:PORT", for logs
    Deadline deadline;   // to authenticate, counted from accept
    bool spoke = false;  // bytes (or its end) arrived: ready for a handshake slot
  };

  WaitingRoom(size_t capacity, size_t per_source) : capacity_(capacity), per_source_(per_source) {}

  // Lets entry in. Returns the connection it pushed out to make room, if any.
  std::optional<Entry> Admit(Entry entry);
  // Removes the connections past their deadline.
  std::vector<Entry> TakeExpired();
  // The spoken connection to authenticate next (see above), or none.
  std::optional<Entry> TakeNextSpoken();
  // Handshakes running per source, which TakeNextSpoken weighs: its entry's handshake started,
  // and the one for peer ended.
  void HandshakeEnded(const std::string& peer);

  size_t size() const { return entries_.size(); }
  size_t spoken() const { return spoken_; }
  // The earliest deadline in the room.
  Deadline NextDeadline() const;
  // Appends a POLLIN pollfd for each connection still silent, with the entry behind it.
  void AppendSilent(std::vector<pollfd>* fds, std::vector<Entry*>* entries);
  // Marks an entry from AppendSilent as spoken.
  void MarkSpoke(Entry* entry);

 private:
  struct Load {
    size_t waiting = 0;
    size_t handshaking = 0;
  };

  std::deque<Entry>::iterator OldestOf(const std::string& source);
  Entry Remove(std::deque<Entry>::iterator it);
  void Release(const std::string& source, size_t Load::*count);

  const size_t capacity_;
  const size_t per_source_;
  std::deque<Entry> entries_;  // in accept order
  size_t spoken_ = 0;
  // Only sources with a connection waiting or authenticating: bounded like the room and the pool.
  std::unordered_map<std::string, Load> loads_;
};

}  // namespace xfer
