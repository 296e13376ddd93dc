#include "held_file.h"

#include <iterator>

namespace xfer {

void KeepCommonHeld(const HeldFiles& other, HeldFiles* held) {
  for (auto it = held->begin(); it != held->end();) {
    HeldFile& mine = it->second;
    auto found = other.find(it->first);
    bool keep = found != other.end() && found->second.size == mine.size &&
                found->second.meta == mine.meta &&
                (found->second.have != mine.have || found->second.content == mine.content);
    if (keep && found->second.have < mine.have) mine = found->second;
    it = keep ? std::next(it) : held->erase(it);
  }
}

}  // namespace xfer
