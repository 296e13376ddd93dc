// Include instead of <xxhash.h> where bytes are hashed: on x86-64, Debian's libxxhash exports
// runtime-dispatched variants (AVX2 / AVX-512 when the CPU has them), and this header makes the
// XXH3 calls use them. Baseline builds of libxxhash otherwise run the SSE2 code path.
#pragma once

#include <xxhash.h>
#if defined(__x86_64__)
#include <xxh_x86dispatch.h>
#endif
