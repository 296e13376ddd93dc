// CheckAdmission and Receiver::Preflight: the receiver's checks, with or without a sender.
#include "receiver_preflight.h"

#include <algorithm>
#include <cstdint>

#include "entry_path.h"
#include "staging_dir.h"
#include "xfer/receiver.h"

namespace xfer {

namespace {

// Room for directory blocks and metadata beyond the files' own blocks.
constexpr uint64_t kPerEntryOverhead = 4096;

// allocated_bytes + entries * kPerEntryOverhead; counts that large cannot fit anywhere anyway, so
// they saturate instead of wrapping around into a small demand.
uint64_t SpaceNeeded(uint64_t allocated_bytes, uint64_t entries) {
  if (entries > (UINT64_MAX - allocated_bytes) / kPerEntryOverhead) return UINT64_MAX;
  return allocated_bytes + entries * kPerEntryOverhead;
}

}  // namespace

Status CheckAdmission(const std::string& dest_dir, const std::vector<std::string>& names,
                      bool overwrite, uint64_t allocated_bytes, uint64_t entries) {
  if (!overwrite) XFER_RETURN_IF_ERROR(CheckTargetsAbsent(dest_dir, names));
  return CheckFreeSpace(dest_dir, SpaceNeeded(allocated_bytes, entries));
}

Status Receiver::Preflight(const ReceiveOptions& options, const IncomingTransfer& incoming,
                           uint64_t* free_bytes) {
  for (const std::string& name : incoming.names) {
    // A real transfer's names are checked the same way when the sender's HELLO is decoded.
    if (!IsValidTopName(name)) {
      return Status(Code::kInvalidArgument,
                    "'" + EscapeForMessage(name) + "' is not a top-level entry name");
    }
  }
  {
    // What Run needs of dest_dir is that a staging directory can be made there: it exists, is a
    // directory, and takes new entries (not read-only, inodes left). Trying is the one sure test.
    StagingDir probe;
    XFER_RETURN_IF_ERROR(StagingDir::Create(options.dest_dir, incoming.names, &probe));
  }
  // A resumed transfer needs room only for what an interrupted one did not leave.
  uint64_t held = 0;
  if (options.resume) {
    XFER_RETURN_IF_ERROR(StagingDir::HeldAllocated(options.dest_dir, incoming.names, &held));
  }
  XFER_RETURN_IF_ERROR(CheckAdmission(
      options.dest_dir, incoming.names, options.overwrite,
      incoming.allocated_bytes - std::min(held, incoming.allocated_bytes), incoming.entries));
  return AvailableBytes(options.dest_dir, free_bytes);
}

}  // namespace xfer
