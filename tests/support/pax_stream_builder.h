// PaxStreamBuilder: a pax stream built in memory entry by entry with libarchive's writer, for
// streams WriteArchive never produces (what a hostile or broken sender could send).
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

struct archive;
struct archive_entry;

namespace xfer::testing {

class PaxStreamBuilder {
 public:
  // Sets anything else on an entry before its header is written.
  using Extra = std::function<void(archive_entry*)>;

  PaxStreamBuilder();
  ~PaxStreamBuilder();
  PaxStreamBuilder(const PaxStreamBuilder&) = delete;
  PaxStreamBuilder& operator=(const PaxStreamBuilder&) = delete;

  PaxStreamBuilder& Dir(const std::string& path, mode_t perm = 0755);
  PaxStreamBuilder& File(const std::string& path, const std::string& content,
                         const Extra& extra = nullptr);
  // A file of `size` bytes whose sparse map lists `extents` (offset, bytes; in order) as its
  // data: the rest is holes, whatever the file it claims to be held there.
  PaxStreamBuilder& SparseFile(const std::string& path, int64_t size,
                               const std::vector<std::pair<int64_t, std::string>>& extents);
  PaxStreamBuilder& Symlink(const std::string& path, const std::string& target);
  PaxStreamBuilder& Hardlink(const std::string& path, const std::string& target);

  // The stream so far, without the end marker.
  const std::string& Unfinished() const { return bytes_; }
  // The whole stream, end marker included.
  std::string Finish();

 private:
  PaxStreamBuilder& Add(const std::string& path, mode_t type, mode_t perm,
                        const std::string& content, const Extra& extra);

  archive* archive_;
  std::string bytes_;
};

}  // namespace xfer::testing
