#include "pax_stream_builder.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

namespace xfer::testing {

namespace {

la_ssize_t Append(archive*, void* bytes, const void* data, size_t len) {
  static_cast<std::string*>(bytes)->append(static_cast<const char*>(data), len);
  return static_cast<la_ssize_t>(len);
}

}  // namespace

PaxStreamBuilder::PaxStreamBuilder() : archive_(archive_write_new()) {
  archive_write_set_format_pax(archive_);
  archive_write_set_bytes_per_block(archive_, 0);
  archive_write_open2(archive_, &bytes_, nullptr, &Append, nullptr, nullptr);
}

PaxStreamBuilder::~PaxStreamBuilder() { archive_write_free(archive_); }

PaxStreamBuilder& PaxStreamBuilder::Dir(const std::string& path, mode_t perm) {
  return Add(path, AE_IFDIR, perm, "", nullptr);
}

PaxStreamBuilder& PaxStreamBuilder::File(const std::string& path, const std::string& content,
                                         const Extra& extra) {
  return Add(path, AE_IFREG, 0644, content, extra);
}

PaxStreamBuilder& PaxStreamBuilder::Symlink(const std::string& path, const std::string& target) {
  return Add(path, AE_IFLNK, 0777, "",
             [&](archive_entry* e) { archive_entry_copy_symlink(e, target.c_str()); });
}

PaxStreamBuilder& PaxStreamBuilder::Hardlink(const std::string& path, const std::string& target) {
  return Add(path, AE_IFREG, 0644, "",
             [&](archive_entry* e) { archive_entry_copy_hardlink(e, target.c_str()); });
}

std::string PaxStreamBuilder::Finish() {
  archive_write_close(archive_);
  return bytes_;
}

PaxStreamBuilder& PaxStreamBuilder::SparseFile(
    const std::string& path, int64_t size,
    const std::vector<std::pair<int64_t, std::string>>& extents) {
  archive_entry* e = archive_entry_new();
  archive_entry_copy_pathname(e, path.c_str());
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, size);
  archive_entry_set_mtime(e, 1600000000, 0);
  for (const auto& [offset, bytes] : extents) {
    archive_entry_sparse_add_entry(e, offset, static_cast<la_int64_t>(bytes.size()));
  }
  EXPECT_EQ(archive_write_header(archive_, e), ARCHIVE_OK) << archive_error_string(archive_);
  // One write per hole and per extent: libarchive 3.6's pax writer mishandles a write that
  // spans both. Hole bytes are consumed, not stored.
  int64_t position = 0;
  for (const auto& [offset, bytes] : extents) {
    const std::string hole(static_cast<size_t>(offset - position), '\0');
    if (!hole.empty()) archive_write_data(archive_, hole.data(), hole.size());
    archive_write_data(archive_, bytes.data(), bytes.size());
    position = offset + static_cast<int64_t>(bytes.size());
  }
  archive_entry_free(e);
  return *this;
}

PaxStreamBuilder& PaxStreamBuilder::Add(const std::string& path, mode_t type, mode_t perm,
                                        const std::string& content, const Extra& extra) {
  archive_entry* e = archive_entry_new();
  archive_entry_copy_pathname(e, path.c_str());
  archive_entry_set_filetype(e, type);
  archive_entry_set_perm(e, perm);
  archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
  archive_entry_set_mtime(e, 1600000000, 0);
  if (extra) extra(e);
  EXPECT_EQ(archive_write_header(archive_, e), ARCHIVE_OK) << archive_error_string(archive_);
  if (!content.empty()) archive_write_data(archive_, content.data(), content.size());
  archive_entry_free(e);
  return *this;
}

}  // namespace xfer::testing
