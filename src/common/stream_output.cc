#include "stream_output.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include "deadline.h"

namespace xfer {

namespace {

// O_NONBLOCK on a descriptor for as long as it lives; the flags it had come back after.
class NonBlocking {
 public:
  explicit NonBlocking(int fd) : fd_(fd), flags_(fcntl(fd, F_GETFL)) {
    if (flags_ >= 0 && !(flags_ & O_NONBLOCK)) fcntl(fd_, F_SETFL, flags_ | O_NONBLOCK);
  }
  ~NonBlocking() {
    if (flags_ >= 0 && !(flags_ & O_NONBLOCK)) fcntl(fd_, F_SETFL, flags_);
  }
  NonBlocking(const NonBlocking&) = delete;
  NonBlocking& operator=(const NonBlocking&) = delete;

 private:
  int fd_;
  int flags_;
};

Status WriteAll(int fd, const uint8_t* bytes, size_t len, const std::string& shown,
                std::chrono::milliseconds idle, const CancelToken* cancel) {
  Deadline silence = Deadline::After(idle);
  while (len > 0) {
    ssize_t put = write(fd, bytes, len);
    if (put > 0) {
      bytes += put;
      len -= static_cast<size_t>(put);
      silence = Deadline::After(idle);
      continue;
    }
    if (put < 0 && errno == EINTR) continue;
    if (put < 0 && errno != EAGAIN) return Status::FromErrno(errno, "writing to " + shown);
    pollfd fds[2] = {{fd, POLLOUT, 0}, {cancel ? cancel->fd() : -1, POLLIN, 0}};
    int ready = poll(fds, 2, silence.PollTimeoutMs());
    if (ready < 0 && errno != EINTR) return Status::FromErrno(errno, "writing to " + shown);
    if (cancel != nullptr && cancel->IsCancelled()) return Status(Code::kCancelled, "cancelled");
    if (ready == 0 && silence.Expired()) {
      return Status(
          Code::kTimeout,
          shown + " took nothing for " +
              std::to_string(std::chrono::duration_cast<std::chrono::seconds>(idle).count()) +
              " s (--idle-timeout)");
    }
  }
  return Status::Ok();
}

}  // namespace

Status DrainToFd(ByteSource* stream, int fd, const std::string& shown,
                 std::chrono::milliseconds idle, const CancelToken* cancel,
                 std::atomic<uint64_t>* done, bool* output_failed) {
  NonBlocking non_blocking(fd);
  *output_failed = false;
  while (true) {
    const void* data = nullptr;
    size_t len = 0;
    XFER_RETURN_IF_ERROR(stream->Next(&data, &len));
    if (len == 0) return Status::Ok();
    Status written = WriteAll(fd, static_cast<const uint8_t*>(data), len, shown, idle, cancel);
    if (!written.ok()) {
      *output_failed = written.code() != Code::kCancelled;
      return written;
    }
    if (done != nullptr) *done += len;
  }
}

}  // namespace xfer
