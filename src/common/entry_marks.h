// Entry marks: what xfer itself puts on a pax entry in the place of an xattr
// (LIBARCHIVE.xattr.xfer.*). No file on Linux can carry an xattr without a namespace prefix, so a
// mark is never mistaken for one of the source's own; receivers take every mark off an entry
// before anything else looks at it, and MetadataDigest ignores them.
//   xfer.resume  on a resumed entry: the bytes the receiver already holds, in decimal
//                (archive_source.cc).
//   xfer.path    on a sparse entry with a path longer than a ustar name: the path. libarchive
//                3.6 writes such an entry's GNU.sparse.name, which readers prefer over its pax
//                `path`, from the truncated ustar name, so without the mark a sparse file under
//                a long path (and every held file a resume re-announces, as a sparse entry
//                without data) arrives under a wrong name.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <optional>
#include <string>
#include <string_view>

namespace xfer {

inline constexpr std::string_view kResumeXattr = "xfer.resume";
inline constexpr std::string_view kPathXattr = "xfer.path";

// True for the name of any mark.
bool IsEntryMark(std::string_view xattr_name);

// Adds the path mark where libarchive would lose the entry's path (see above); called just before
// the entry's header is written.
void MarkPathIfLost(struct archive_entry* entry);

struct EntryMarks {
  std::optional<std::string> resume;  // the value of xfer.resume
};

// Takes every mark off entry; puts the path mark back as the entry's pathname.
void TakeEntryMarks(struct archive_entry* entry, EntryMarks* marks);

}  // namespace xfer
