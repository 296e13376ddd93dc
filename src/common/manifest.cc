#include "manifest.h"

#include "path_digest.h"

namespace xfer {

WrittenFile WrittenOf(const ManifestRecord& record) {
  return WrittenFile{PathDigest(record.path), record.size, record.digest};
}

}  // namespace xfer
