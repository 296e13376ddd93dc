// Making one entry of a test tree, relative to a directory descriptor (so at any depth), with
// failures reported through ADD_FAILURE; and the deterministic bytes test files hold.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace xfer::testing {

// Writes all of data at offset of fd; what names the file in a failure.
void WriteAllAt(int fd, const std::string& data, off_t offset, const std::string& what);

// Creates dir_fd/name (which must not exist) holding content.
void MakeFileAt(int dir_fd, const std::string& name, const std::string& content,
                mode_t mode = 0644);

// Creates dir_fd/name and returns a descriptor of it (the caller closes it).
int MakeDirAt(int dir_fd, const std::string& name, mode_t mode = 0755);

// Fails the test, naming what, when a system call returned non-zero.
void ExpectCallOk(int result, const std::string& what);

// Deterministic bytes that do not compress, the same for the same seed.
std::string PseudoRandom(size_t len, uint64_t seed);

}  // namespace xfer::testing
