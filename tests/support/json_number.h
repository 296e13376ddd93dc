// JsonNumber: a whole-number figure from a program's JSON line ("resumed_bytes", "wire_bytes",
// ...); a test failure, and 0, when the line lacks it.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <regex>
#include <string>

namespace xfer::testing {

inline uint64_t JsonNumber(const std::string& json, const std::string& key) {
  std::smatch match;
  if (!std::regex_search(json, match, std::regex("\"" + key + "\":([0-9]+)"))) {
    ADD_FAILURE() << "no " << key << " in " << json;
    return 0;
  }
  return std::stoull(match[1]);
}

}  // namespace xfer::testing
