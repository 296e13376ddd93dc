#include "waiting_room.h"

#include <poll.h>

#include <limits>

namespace xfer {

std::string SourceOf(const std::string& peer) {
  size_t colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}

std::optional<WaitingRoom::Entry> WaitingRoom::Admit(Entry entry) {
  std::string source = SourceOf(entry.peer);
  std::optional<Entry> evicted;
  if (loads_[source].waiting >= per_source_) {
    evicted = Remove(OldestOf(source));
  } else if (entries_.size() >= capacity_) {
    evicted = Remove(OldestOf(""));
  }
  ++loads_[source].waiting;
  if (entry.ready) ++ready_;
  entries_.push_back(std::move(entry));
  return evicted;
}

std::vector<WaitingRoom::Entry> WaitingRoom::TakeIf(const std::function<bool(const Entry&)>& goes) {
  std::vector<Entry> taken;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (goes(*it)) {
      taken.push_back(Remove(it));
      it = entries_.begin();  // Remove invalidated it; the room is small
    } else {
      ++it;
    }
  }
  return taken;
}

std::vector<WaitingRoom::Entry> WaitingRoom::TakeExpired() {
  return TakeIf([](const Entry& entry) { return entry.deadline.Expired(); });
}

std::vector<WaitingRoom::Entry> WaitingRoom::TakeRefused() {
  return TakeIf([](const Entry& entry) { return !entry.refused.empty(); });
}

std::optional<WaitingRoom::Entry> WaitingRoom::TakeNextReady() {
  auto best = entries_.end();
  size_t fewest = std::numeric_limits<size_t>::max();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (!it->ready) continue;
    size_t running = loads_[SourceOf(it->peer)].handshaking;
    if (running < fewest) {
      fewest = running;
      best = it;
    }
  }
  if (best == entries_.end()) return std::nullopt;
  ++loads_[SourceOf(best->peer)].handshaking;
  return Remove(best);
}

void WaitingRoom::HandshakeEnded(const std::string& peer) {
  Release(SourceOf(peer), &Load::handshaking);
}

Deadline WaitingRoom::NextDeadline() const {
  Deadline next = Deadline::Never();
  for (const Entry& entry : entries_) next = next.Earlier(entry.deadline);
  return next;
}

void WaitingRoom::AppendUnready(std::vector<pollfd>* fds, std::vector<Entry*>* entries) {
  for (Entry& entry : entries_) {
    if (entry.ready) continue;  // its bytes wait for a slot; polling it again would spin
    // POLLIN comes once SO_RCVLOWAT bytes are there (first_flight.h); POLLRDHUP when it ended.
    fds->push_back({entry.socket.fd(), POLLIN | POLLRDHUP, 0});
    entries->push_back(&entry);
  }
}

void WaitingRoom::MarkReady(Entry* entry) {
  if (entry->ready) return;
  entry->ready = true;
  ++ready_;
}

std::deque<WaitingRoom::Entry>::iterator WaitingRoom::OldestOf(const std::string& source) {
  auto oldest = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (!source.empty() && SourceOf(it->peer) != source) continue;
    if (!it->ready) return it;
    if (oldest == entries_.end()) oldest = it;
  }
  return oldest;  // every one ready (never end(): the caller counted one)
}

WaitingRoom::Entry WaitingRoom::Remove(std::deque<Entry>::iterator it) {
  Entry entry = std::move(*it);
  entries_.erase(it);
  if (entry.ready) --ready_;
  Release(SourceOf(entry.peer), &Load::waiting);
  return entry;
}

void WaitingRoom::Release(const std::string& source, size_t Load::*count) {
  auto it = loads_.find(source);
  if (it == loads_.end()) return;
  --(it->second.*count);
  if (it->second.waiting == 0 && it->second.handshaking == 0) loads_.erase(it);
}

}  // namespace xfer
