#include "entry_marks.h"

#include <cstring>
#include <utility>
#include <vector>

namespace xfer {

namespace {

// A ustar header's name field; longer paths need a pax `path` record.
constexpr size_t kUstarName = 100;

}  // namespace

bool IsEntryMark(std::string_view xattr_name) { return xattr_name.rfind("xfer.", 0) == 0; }

void MarkPathIfLost(struct archive_entry* entry) {
  const char* path = archive_entry_pathname(entry);
  if (path == nullptr || archive_entry_sparse_count(entry) == 0 || std::strlen(path) < kUstarName) {
    return;
  }
  archive_entry_xattr_add_entry(entry, kPathXattr.data(), path, std::strlen(path));
}

void TakeEntryMarks(struct archive_entry* entry, EntryMarks* marks) {
  *marks = EntryMarks{};
  if (archive_entry_xattr_count(entry) == 0) return;
  std::vector<std::pair<std::string, std::string>> kept;
  std::optional<std::string> path;
  bool any = false;
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  archive_entry_xattr_reset(entry);
  while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
    std::string bytes(static_cast<const char*>(value), size);
    std::string_view key = name != nullptr ? name : "";
    if (!IsEntryMark(key)) {
      kept.emplace_back(key, std::move(bytes));
      continue;
    }
    any = true;
    if (key == kResumeXattr) marks->resume = std::move(bytes);
    if (key == kPathXattr) path = std::move(bytes);
  }
  if (!any) return;
  archive_entry_xattr_clear(entry);
  for (const auto& [key, bytes] : kept) {
    archive_entry_xattr_add_entry(entry, key.c_str(), bytes.data(), bytes.size());
  }
  if (path) archive_entry_copy_pathname(entry, path->c_str());
}

}  // namespace xfer
