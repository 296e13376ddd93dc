// What the fault suite counts, per kind of fault, and the table it prints at the end (the figures
// quoted in the README).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace xfer::testing {

struct KindStats {
  std::string kind;
  int points = 0;              // faulted runs made
  int injected = 0;            // runs whose stream reached the fault's byte
  int committed_first = 0;     // the receiver had verified and committed everything regardless
  int failed_cleanly = 0;      // both ended non-zero as expected, nothing new outside staging
  int resumed = 0;             // --resume runs that completed and left exactly the source tree
  int resumed_holding = 0;     // --resume runs that succeeded reporting data already held
  uint64_t resumed_bytes = 0;  // sum of their receivers' "resumed_bytes"
  uint64_t bytes_lost = 0;     // content bytes of the source missing or different at the end
  int failed_points = 0;       // runs with at least one failed expectation
  double seconds = 0;
  // The error lines of both programs, numbers and per-run paths replaced, with their counts.
  std::map<std::string, int> messages;
};

// "xfer-recv: error: writing /tmp/x/dest/...: No space" -> "xfer-recv: error: writing DEST/...";
// digit runs become N.
std::string NormalizeMessage(const std::string& line, const std::string& dest,
                             const std::string& source);

// The first line of text starting with prefix ("xfer-recv: error: "), or "".
std::string FirstLineStartingWith(const std::string& text, const std::string& prefix);

// The value of "field":N in the last line of text holding it; false when no line does.
bool JsonNumberField(const std::string& text, const std::string& field, uint64_t* value);

// The summary table, one line per kind and a total.
std::string SummaryTable(const std::vector<KindStats>& kinds);

}  // namespace xfer::testing
