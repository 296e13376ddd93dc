#include "fault_stats.h"

#include <cctype>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace xfer::testing {

namespace {

void ReplaceAll(std::string* text, const std::string& what, const std::string& with) {
  if (what.empty()) return;
  for (size_t at = text->find(what); at != std::string::npos; at = text->find(what, at)) {
    text->replace(at, what.size(), with);
    at += with.size();
  }
}

std::string Row(const KindStats& s) {
  char line[256];
  std::snprintf(
      line, sizeof line, "%-24s %6d %8d %9d %8d %7d %7d %12" PRIu64 " %10" PRIu64 " %6d %8.1f",
      s.kind.c_str(), s.points, s.injected, s.committed_first, s.failed_cleanly, s.resumed,
      s.resumed_holding, s.resumed_bytes, s.bytes_lost, s.failed_points, s.seconds);
  return line;
}

}  // namespace

std::string NormalizeMessage(const std::string& line, const std::string& dest,
                             const std::string& source) {
  std::string text = line;
  ReplaceAll(&text, dest, "DEST");
  ReplaceAll(&text, source, "SRC");
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(text[i]))) {
      // Keep the program names and "xfer1" intact; any other number varies from run to run.
      bool in_word = i > 0 && std::isalpha(static_cast<unsigned char>(text[i - 1]));
      if (in_word) {
        out += text[i];
        continue;
      }
      while (i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1]))) ++i;
      out += 'N';
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string FirstLineStartingWith(const std::string& text, const std::string& prefix) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (text.compare(start, prefix.size(), prefix) == 0) return text.substr(start, end - start);
    start = end + 1;
  }
  return "";
}

bool JsonNumberField(const std::string& text, const std::string& field, uint64_t* value) {
  std::string key = "\"" + field + "\":";
  size_t at = text.rfind(key);
  if (at == std::string::npos) return false;
  *value = std::strtoull(text.c_str() + at + key.size(), nullptr, 10);
  return true;
}

std::string SummaryTable(const std::vector<KindStats>& kinds) {
  std::string table =
      "fault kind               points injected committed  cleanly resumed holding "
      "resumed_byte bytes_lost failed  seconds\n";
  KindStats total;
  total.kind = "total";
  for (const KindStats& s : kinds) {
    table += Row(s) + "\n";
    total.points += s.points;
    total.injected += s.injected;
    total.committed_first += s.committed_first;
    total.failed_cleanly += s.failed_cleanly;
    total.resumed += s.resumed;
    total.resumed_holding += s.resumed_holding;
    total.resumed_bytes += s.resumed_bytes;
    total.bytes_lost += s.bytes_lost;
    total.failed_points += s.failed_points;
    total.seconds += s.seconds;
  }
  table += Row(total) + "\n";
  table +=
      "(committed: the receiver had verified and committed everything before the fault; cleanly:\n"
      " both programs ended non-zero with a message and nothing new outside staging; resumed: the\n"
      " --resume run succeeded and the copy equals the source; holding: the --resume run\n"
      " succeeded with data kept from the faulted run, resumed_bytes in all)\n";
  return table;
}

}  // namespace xfer::testing
