#include "entry_path.h"

#include <algorithm>

namespace xfer {

namespace {

// Calls visit(component) for each non-empty component of path, in order.
template <typename Visit>
void ForEachComponent(std::string_view path, Visit visit) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) visit(path.substr(start, end - start));
    start = end + 1;
  }
}

// Empty when path is acceptable (and then *normalized is set), else why it is not.
std::string WhyUnsafe(std::string_view path, const std::vector<std::string>& top_names,
                      std::string* normalized) {
  if (path.empty()) return "is empty";
  if (path.front() == '/') return "is absolute";
  if (path.find('\0') != std::string_view::npos) return "contains a NUL byte";
  bool climbs = false;
  ForEachComponent(path, [&](std::string_view c) { climbs = climbs || c == ".."; });
  if (climbs) return "escapes the destination";
  std::string clean = NormalizeEntryPath(path);
  if (clean.empty()) return "names nothing";
  std::string_view first = FirstComponent(clean);
  if (std::find(top_names.begin(), top_names.end(), first) == top_names.end()) {
    return "is not under an announced top-level name";
  }
  *normalized = std::move(clean);
  return "";
}

}  // namespace

bool IsSafeRelativePath(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  if (path.find('\0') != std::string_view::npos) return false;
  bool climbs = false;
  bool names_something = false;
  ForEachComponent(path, [&](std::string_view component) {
    if (component == "..") climbs = true;
    if (component != ".") names_something = true;
  });
  return !climbs && names_something;
}

bool IsValidTopName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

std::string NormalizeEntryPath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  ForEachComponent(path, [&](std::string_view component) {
    if (component == ".") return;
    if (!out.empty()) out += '/';
    out += component;
  });
  return out;
}

std::string_view FirstComponent(std::string_view normalized) {
  return normalized.substr(0, normalized.find('/'));
}

Status CheckEntryPath(std::string_view path, const std::vector<std::string>& top_names,
                      std::string* normalized) {
  std::string why = WhyUnsafe(path, top_names, normalized);
  if (why.empty()) return Status::Ok();
  return Status(Code::kUnsafe, "refusing entry '" + EscapeForMessage(path) + "': path " + why);
}

Status CheckHardlinkTarget(std::string_view entry_path, std::string_view target,
                           const std::vector<std::string>& top_names, std::string* normalized) {
  std::string why = WhyUnsafe(target, top_names, normalized);
  if (why.empty()) return Status::Ok();
  return Status(Code::kUnsafe, "refusing entry '" + EscapeForMessage(entry_path) +
                                   "': hardlink target '" + EscapeForMessage(target) + "' " + why);
}

std::string EscapeForMessage(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size());
  for (unsigned char c : bytes) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace xfer
