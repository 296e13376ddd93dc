// Contains: EXPECT_TRUE(Contains(output, "expected part")) prints the whole output on failure.
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace xfer::testing {

inline ::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << part << "' not in:\n" << text;
}

}  // namespace xfer::testing
