// TempDir: a fresh directory under $TMPDIR (or /tmp) for one test, removed with everything in it.
#pragma once

#include <string>

namespace xfer::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + relative
  std::string Sub(const std::string& relative) const { return path_ + "/" + relative; }

 private:
  std::string path_;
};

// A new directory under tmp with an absolute, symlink-free path, as StagingDir provides.
std::string MakeStaging(const TempDir& tmp);

// Writes content to path (creating or truncating it); fails the test on error.
void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);

}  // namespace xfer::testing
