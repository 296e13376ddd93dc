// kSanitized: this build runs under scripts/sanitize.sh. The sanitizers' allocators hold freed
// memory back (ASan's quarantine, TSan's per-thread caches and shadow), so a process's RSS says
// nothing about xfer there: memory bounds are asserted only without them.
#pragma once

namespace xfer::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace xfer::testing
