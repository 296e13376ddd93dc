#include "archive_metadata_digest.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "byte_codec.h"
#include "entry_marks.h"
#include "xxh128_hasher.h"

namespace xfer {

Digest128 MetadataDigest(struct archive_entry* entry) {
  ByteWriter w;
  w.U32(archive_entry_mode(entry));
  w.U64(static_cast<uint64_t>(archive_entry_uid(entry)));
  w.U64(static_cast<uint64_t>(archive_entry_gid(entry)));
  w.U64(static_cast<uint64_t>(archive_entry_mtime(entry)));
  w.U64(static_cast<uint64_t>(archive_entry_mtime_nsec(entry)));
  w.U64(static_cast<uint64_t>(archive_entry_size(entry)));
  // Sorted: the order xattrs are listed in depends on the filesystem, not on the file.
  std::vector<std::pair<std::string, std::string>> xattrs;
  archive_entry_xattr_reset(entry);
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
    if (name == nullptr || IsEntryMark(name)) continue;
    xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
  }
  std::sort(xattrs.begin(), xattrs.end());
  // libarchive's pax reader adds an xattr once per record naming it, and its writer names each
  // twice (LIBARCHIVE.xattr and SCHILY.xattr): a received entry lists it twice, the file once.
  xattrs.erase(std::unique(xattrs.begin(), xattrs.end()), xattrs.end());
  w.U32(static_cast<uint32_t>(xattrs.size()));
  for (const auto& [key, bytes] : xattrs) {
    w.Bytes(key);
    w.Bytes(bytes);
  }
  // Both kinds at once, each line marked with its kind: the text is malloc()ed for us.
  std::unique_ptr<char, decltype(&free)> acl(
      archive_entry_acl_to_text(entry, nullptr,
                                ARCHIVE_ENTRY_ACL_TYPE_ACCESS | ARCHIVE_ENTRY_ACL_TYPE_DEFAULT |
                                    ARCHIVE_ENTRY_ACL_STYLE_MARK_DEFAULT),
      free);
  w.Bytes(acl ? std::string_view(acl.get()) : std::string_view());
  Xxh128Hasher hasher;
  hasher.Update(w.str().data(), w.str().size());
  return hasher.Finish();
}

}  // namespace xfer
