// The receiver's admission checks, shared by a real transfer (once the sender announced what it
// brings) and by Receiver::Preflight (before anything starts), so both demand the same.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xfer/status.h"

namespace xfer {

// Fails naming the path when dest_dir/NAME exists for one of names (unless overwrite), or with
// Code::kNoSpace when dest_dir's filesystem lacks room for allocated_bytes of files in `entries`
// entries.
Status CheckAdmission(const std::string& dest_dir, const std::vector<std::string>& names,
                      bool overwrite, uint64_t allocated_bytes, uint64_t entries);

}  // namespace xfer
