// Entry paths: the names inside a pax stream, checked before anything touches the disk.
//
// A stream entry path is a relative, '/'-separated byte string whose first component is one of
// the top-level names the sender announced ("db/ibdata1" under top name "db"). The receiver
// rejects everything else, so a hostile or buggy stream cannot name a file outside the staging
// directory. Names are bytes: any byte but '/' and NUL may appear in a component.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "xfer/status.h"

namespace xfer {

// True when path is relative, has no ".." component and names something (at least one
// component other than "." after empty components are dropped). "a//b/./c/" is accepted.
bool IsSafeRelativePath(std::string_view path);

// True for a name that can stand on its own as a top-level entry: one component, not "." or "..".
bool IsValidTopName(std::string_view name);

// The path with empty and "." components dropped ("a//./b/" -> "a/b"). Only meaningful for paths
// that pass IsSafeRelativePath.
std::string NormalizeEntryPath(std::string_view path);

// The first component of a normalized path ("db/ibdata1" -> "db").
std::string_view FirstComponent(std::string_view normalized);

// Checks a path read from a stream and returns its normalized form in *normalized. Fails with
// Code::kUnsafe and a message naming the entry ("refusing entry '../x': path escapes the
// destination") when it is absolute, empty, climbs with "..", or lies outside top_names.
Status CheckEntryPath(std::string_view path, const std::vector<std::string>& top_names,
                      std::string* normalized);

// The same checks for the target of a hardlink entry (which names the entry being linked to):
// "refusing entry 'top/h': hardlink target '/etc/passwd' is an absolute path".
Status CheckHardlinkTarget(std::string_view entry_path, std::string_view target,
                           const std::vector<std::string>& top_names, std::string* normalized);

// The bytes with everything but printable ASCII escaped (\n, \t, \\, \xff), so that a hostile
// name cannot forge lines or terminal escapes in a log.
std::string EscapeForMessage(std::string_view bytes);

}  // namespace xfer
