#include "held_verifier.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "content_digest.h"
#include "file_content_digest.h"

namespace xfer {

HeldVerifier::HeldVerifier(const CancelToken* cancel)
    : cancel_(cancel), buffer_(size_t{1} << 20), thread_([this] { Run(); }) {}

HeldVerifier::~HeldVerifier() {
  if (!thread_.joinable()) return;
  queue_.Abort();
  thread_.join();
}

void HeldVerifier::Add(UniqueFd fd, uint64_t size, size_t tag, std::string shown) {
  Job job{std::move(fd), size, tag, std::move(shown)};
  (void)queue_.Push(std::move(job));  // refused only once Finish or the destructor ran
}

Status HeldVerifier::Finish(std::vector<std::pair<size_t, Digest128>>* digests) {
  (void)queue_.Push(Job{});
  thread_.join();
  *digests = std::move(digests_);
  return status_;
}

void HeldVerifier::Run() {
  for (;;) {
    std::optional<Job> job = queue_.Pop();
    if (!job || !job->fd.valid()) return;
    if (!status_.ok()) continue;  // the first failure is the answer; drain the rest
    Digest128 digest;
    status_ = Digest(*job, &digest);
    if (status_.ok()) digests_.emplace_back(job->tag, digest);
  }
}

Status HeldVerifier::Digest(const Job& job, Digest128* digest) {
  ContentDigest hasher;
  if (job.size >= buffer_.size()) (void)posix_fadvise(job.fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  XFER_RETURN_IF_ERROR(
      DigestFileData(job.fd.get(), job.size, job.shown, cancel_, &buffer_, &hasher));
  struct stat st;
  if (fstat(job.fd.get(), &st) != 0) return Status::FromErrno(errno, "reading " + job.shown);
  if (static_cast<uint64_t>(st.st_size) != job.size) {
    return Status(Code::kIoError, job.shown + " changed size while being read");
  }
  *digest = hasher.Finish();
  return Status::Ok();
}

}  // namespace xfer
