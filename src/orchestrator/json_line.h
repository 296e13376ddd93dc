// JsonLine: the one-line JSON objects xfer-send and xfer-recv print (results, progress events,
// pre-flight answers), read back by `xfer`. Top-level strings, numbers, booleans and arrays of
// strings are kept; nested objects are checked for syntax and skipped.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "xfer/status.h"

namespace xfer::orchestrator {

class JsonLine {
 public:
  // Fails on anything that is not one complete JSON object.
  static Status Parse(std::string_view text, JsonLine* out);

  bool Has(const std::string& key) const;
  // Missing or of another type: the fallback.
  std::string String(const std::string& key, const std::string& fallback = "") const;
  double Number(const std::string& key, double fallback = 0) const;
  uint64_t Count(const std::string& key) const;  // a non-negative integer, else 0
  bool Bool(const std::string& key, bool fallback = false) const;
  std::vector<std::string> Strings(const std::string& key) const;

 private:
  std::map<std::string, std::string> strings_;
  std::map<std::string, double> numbers_;
  std::map<std::string, bool> bools_;
  std::map<std::string, std::vector<std::string>> string_arrays_;
  std::map<std::string, bool> others_;  // keys whose values were skipped
};

}  // namespace xfer::orchestrator
