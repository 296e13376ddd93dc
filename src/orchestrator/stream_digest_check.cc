#include "stream_digest_check.h"

#include <string>

namespace xfer::orchestrator {

Status CheckStreamDigest(std::string_view sender_digest, std::string_view target_digest) {
  if (sender_digest.empty() || sender_digest == target_digest) return Status::Ok();
  return Status(Code::kCorrupt, "received a stream whose digest (" + std::string(target_digest) +
                                    ") differs from the one the sender sent (" +
                                    std::string(sender_digest) + ")");
}

}  // namespace xfer::orchestrator
