#include "stream_copy.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "deadline.h"

namespace xfer {

namespace {

constexpr size_t kReadSize = 1 << 20;
// Bytes that wait longer than this for their chunk to fill are sent in a short one.
constexpr auto kFlushAfter = std::chrono::milliseconds(500);

}  // namespace

Status CopyStream(int fd, const std::string& shown, ByteSink* sink, std::chrono::milliseconds idle,
                  const CancelToken* stop, const CancelToken* cancel, ArchiveCounters* counters) {
  std::vector<uint8_t> own_buffer;
  Deadline silence = Deadline::After(idle);
  // While bytes wait in a chunk that is not full: when they leave anyway.
  Deadline flush_at = Deadline::Never();
  while (true) {
    Deadline wait = silence.Earlier(flush_at);
    pollfd fds[3] = {{fd, POLLIN, 0},
                     {stop ? stop->fd() : -1, POLLIN, 0},
                     {cancel ? cancel->fd() : -1, POLLIN, 0}};
    int ready = poll(fds, 3, wait.PollTimeoutMs());
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Status::FromErrno(errno, "reading " + shown);
    for (const CancelToken* token : {stop, cancel}) {
      if (token != nullptr && token->IsCancelled()) return Status(Code::kCancelled, "cancelled");
    }
    if (flush_at.Expired()) {
      XFER_RETURN_IF_ERROR(sink->Flush());
      flush_at = Deadline::Never();
    }
    if (ready == 0) {
      if (!silence.Expired()) continue;
      return Status(
          Code::kTimeout,
          shown + " wrote nothing for " +
              std::to_string(std::chrono::duration_cast<std::chrono::seconds>(idle).count()) +
              " s (--idle-timeout)");
    }
    size_t room = 0;
    uint8_t* region = sink->WritableRegion(&room);
    if (region == nullptr || room == 0) {
      own_buffer.resize(kReadSize);
      region = own_buffer.data();
      room = own_buffer.size();
    }
    ssize_t got = read(fd, region, room);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got < 0) return Status::FromErrno(errno, "reading " + shown);
    if (got == 0) return Status::Ok();
    XFER_RETURN_IF_ERROR(sink->Write(region, static_cast<size_t>(got)));
    silence = Deadline::After(idle);
    flush_at = flush_at.Earlier(Deadline::After(kFlushAfter));
    counters->content_bytes_read += static_cast<uint64_t>(got);
  }
}

}  // namespace xfer
