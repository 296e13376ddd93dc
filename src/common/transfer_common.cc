#include "transfer_common.h"

#include <pthread.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <thread>

namespace xfer {

ScopedSigpipeBlock::ScopedSigpipeBlock() {
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask_);
}

ScopedSigpipeBlock::~ScopedSigpipeBlock() {
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  timespec zero{0, 0};
  while (sigtimedwait(&pipe_only, nullptr, &zero) == SIGPIPE) {
  }
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

std::string DigestHex(const Digest128& digest) {
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(digest.high),
                static_cast<unsigned long long>(digest.low));
  return hex;
}

int ResolveThreads(int requested) {
  if (requested > 0) return requested;
  unsigned cores = std::thread::hardware_concurrency();
  double load[1] = {0};
  if (getloadavg(load, 1) != 1) load[0] = 0;
  return IdleCores(cores > 0 ? static_cast<int>(cores) : 1, load[0]);
}

int IdleCores(int cores, double load_average) {
  return std::max(1, cores - static_cast<int>(load_average + 0.5));
}

}  // namespace xfer
