// The sender's other source: exactly the paths a list names (`xfer-send --files-from FILE`), as
// `tar -C DIR -T FILE --no-recursion` would send them.
//
// - Names come one per line, or NUL-terminated with -0 (what `find -print0` writes), from a file
//   or from stdin ("-"). Names are bytes: a trailing "\r" is part of the name, and without -0 a
//   name cannot contain a newline (as in tar). Empty names are skipped, and so is a name that is
//   the base directory itself ("." or "./", which `find .` prints first): the base has no name in
//   the stream, the destination directory stands for it.
// - Each name is relative to the base directory (-C DIR; default the working directory) and is
//   sent under that relative path, normalized: "./" and repeated or trailing "/" removed
//   ("./a//b/" is sent as "a/b"). The top-level names announced to the receiver are the first
//   components of the names, in the order the list first mentions them.
// - No recursion: a listed directory is sent as a directory entry (its metadata) without its
//   content, unless its content is listed too. A parent that is not listed is sent anyway, as a
//   directory entry with its real metadata, before its children: so the receiver restores its
//   mode, owner and times instead of making one up. Symlinks are sent as symlinks, hardlinks
//   among the sent files as in trees, sockets are skipped (as the tree walk does).
// - Stream order is the tree walk's (StreamOrderLess, archive_source_walk.h): sorted bytewise
//   by path, a directory before what is under it, whatever the list's order; the same on every
//   run. A name listed twice (after normalization) is sent once.
// - Symlinks are never followed: the base is opened once, and every directory on a name's way
//   down is opened from its parent with O_NOFOLLOW (openat, as the tree walk does).
// - Refused, with one line naming the list and the line (with -0: the name's number), before
//   anything is sent: an absolute name, a ".." component, a NUL byte in a newline-separated
//   list, a name that does not exist ("files-from list.txt line 3: db/x.ibd: No such file or
//   directory"), a name with a symlink or a non-directory on its way, and a list that names
//   nothing (empty, or only skipped names).
//
// SummarizeFileList and WriteFileList (archive_source.h) turn a list into the summary and the
// stream; what they share with the tree source is the entry visitor, so resume works the same.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "archive_source_walk.h"
#include "xfer/cancel.h"
#include "xfer/status.h"

namespace xfer {

struct FileList {
  // As read, before normalization: names[i] is line i + 1 (with -0, the (i + 1)th name). Empty
  // names are kept here, so that the index still gives the line number, and skipped when sent.
  std::vector<std::string> names;
  std::string base_dir;  // "" : the working directory
  std::string origin;    // for messages: the list's path, or "stdin"
};

// Reads names from path ("-": stdin, read to its end), newline- or NUL-separated. A last name
// without its separator counts. Sets origin; leaves base_dir empty for the caller to set.
// Fails with "files-from list.txt: No such file or directory" when the list cannot be read.
Status ReadFileList(const std::string& path, bool nul_separated, FileList* out);

// One path to send, as the list names it.
struct ListedPath {
  std::string path;   // normalized: the entry's path in the stream
  std::string given;  // as the list wrote it, escaped for messages
  size_t line = 0;    // where the list first names it
};

// A list checked and put in stream order.
struct ResolvedFileList {
  std::string base_dir;                // "" : the working directory
  std::string origin;                  // for messages
  std::vector<ListedPath> paths;       // in stream order, each once
  std::vector<std::string> top_names;  // first components, in first-mentioned order
};

// Checks every name (absolute, "..", NUL byte) and sorts and deduplicates the rest. Touches no
// file: whether the names exist is found by the walk. Errors are Code::kInvalidArgument.
Status ResolveFileList(const FileList& list, ResolvedFileList* out);

// Calls visit for each listed path and every parent of one not listed itself, in stream order,
// as WalkSources does for trees (directories with self_fd), and stops at the first failure: from
// visit (returned as it is), from the walk ("files-from list.txt line 3: db/x.ibd: No such file
// or directory"), or Code::kCancelled once cancel is set.
Status WalkFileList(const ResolvedFileList& list, const CancelToken* cancel,
                    const WalkVisitor& visit);

}  // namespace xfer
