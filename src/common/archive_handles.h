// Owners for libarchive objects, so that every return path frees them.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <memory>

namespace xfer {

struct ArchiveReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteFree {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct ArchiveEntryFree {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
struct LinkResolverFree {
  void operator()(struct archive_entry_linkresolver* r) const {
    archive_entry_linkresolver_free(r);
  }
};

// archive_read_new() and archive_read_disk_new() handles.
using ArchiveReadPtr = std::unique_ptr<struct archive, ArchiveReadFree>;
// archive_write_new() and archive_write_disk_new() handles. Freeing a writer that was not closed
// first closes it, which writes the end-of-archive marker: call archive_write_fail() first when
// abandoning a stream.
using ArchiveWritePtr = std::unique_ptr<struct archive, ArchiveWriteFree>;
using ArchiveEntryPtr = std::unique_ptr<struct archive_entry, ArchiveEntryFree>;
using LinkResolverPtr = std::unique_ptr<struct archive_entry_linkresolver, LinkResolverFree>;

}  // namespace xfer
