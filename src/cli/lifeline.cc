// Lifeline: one thread polling stdin, stdout and its own stop token; see lifeline.h.
#include "lifeline.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace xfer::cli {

namespace {

enum Watched { kStop, kStdin, kStdout, kWatchedCount };

// Reads and drops what stdin carries; false once it ended (or failed).
bool StdinStillOpen() {
  char ignored[256];
  ssize_t n = read(STDIN_FILENO, ignored, sizeof ignored);
  return n > 0 || (n < 0 && (errno == EINTR || errno == EAGAIN));
}

}  // namespace

Lifeline::Lifeline(CancelToken* token, LifelineTies ties) {
  if (!ties.stdin_ends && !ties.stdout_reader_leaves) return;  // nothing to watch: no thread
  watcher_ = std::thread([this, token, ties] { Watch(token, ties); });
}

Lifeline::~Lifeline() {
  stop_.Cancel();
  if (watcher_.joinable()) watcher_.join();
}

void Lifeline::Watch(CancelToken* token, LifelineTies ties) {
  pollfd fds[kWatchedCount] = {};
  fds[kStop] = {stop_.fd(), POLLIN, 0};
  // poll() skips a negative descriptor: a tie not asked for.
  fds[kStdin] = {ties.stdin_ends ? STDIN_FILENO : -1, POLLIN, 0};
  // No events asked: POLLERR and POLLHUP, the reader gone, are reported regardless.
  fds[kStdout] = {ties.stdout_reader_leaves ? STDOUT_FILENO : -1, 0, 0};
  for (;;) {
    // No deadline: the ties may hold for the whole run; stop_ is the way out.
    int ready = poll(fds, kWatchedCount, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0 || fds[kStop].revents != 0) return;
    if (fds[kStdout].revents & POLLNVAL) {
      fds[kStdout].fd = -1;  // stdout was closed from the start: no reader to lose
    } else if (fds[kStdout].revents != 0) {
      break;
    }
    if (fds[kStdin].revents != 0 && !StdinStillOpen()) break;
  }
  token->Cancel();
}

}  // namespace xfer::cli
