// WrittenOf(manifest): what a receiver keeps of the files a manifest lists (manifest.h), to
// compare an extraction's output with what was sent.
#pragma once

#include "manifest.h"

namespace xfer::testing {

inline WrittenFiles WrittenOf(const Manifest& manifest) {
  WrittenFiles files;
  for (const ManifestRecord& record : manifest) files.push_back(xfer::WrittenOf(record));
  return files;
}

}  // namespace xfer::testing
