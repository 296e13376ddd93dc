// The receiver's memory is bounded whatever the sender chooses to send: it keeps 40 bytes of each
// file written until the MANIFEST arrives, never the bytes of its path.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "sanitized.h"
#include "temp_dir.h"
#include "text_match.h"
#include "transfer_harness.h"

namespace xfer::testing {
namespace {

// 1,200 empty files (or symlinks) at depth 1,024 under "top", every component 250 characters
// long: about 300 MB of paths, in a .tar.gz of about 1.4 MB.
void WriteDeepPathsArchive(const std::string& path, mode_t type, std::string* deep_dir) {
  *deep_dir = "top";
  for (int depth = 1; depth < 1024; ++depth) *deep_dir += "/" + std::string(250, 'a' + depth % 26);
  struct archive* out = archive_write_new();
  ASSERT_NE(out, nullptr);
  archive_write_set_format_pax_restricted(out);
  archive_write_add_filter_gzip(out);
  ASSERT_EQ(archive_write_open_filename(out, path.c_str()), ARCHIVE_OK);
  struct archive_entry* entry = archive_entry_new();
  for (int i = 0; i < 1200; ++i) {
    archive_entry_clear(entry);
    archive_entry_set_pathname(entry, (*deep_dir + "/file" + std::to_string(i)).c_str());
    archive_entry_set_filetype(entry, type);
    archive_entry_set_perm(entry, 0644);
    if (type == AE_IFLNK) archive_entry_set_symlink(entry, "file0");
    archive_entry_set_size(entry, 0);
    ASSERT_EQ(archive_write_header(out, entry), ARCHIVE_OK) << archive_error_string(out);
  }
  archive_entry_free(entry);
  ASSERT_EQ(archive_write_close(out), ARCHIVE_OK);
  archive_write_free(out);
}

// Sends the archive with xfer-send --from-archive to a real receiver: the copy verifies and the
// receiver's peak RSS stays under 64 MiB (without the digests: 324 MB).
void ExpectBoundedReceiver(mode_t type) {
  TempDir tmp;
  std::string deep_dir;
  WriteDeepPathsArchive(tmp.Sub("deep.tar.gz"), type, &deep_dir);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  ASSERT_EQ(mkdir(tmp.Sub("dest").c_str(), 0755), 0);
  std::string ticket;
  auto receiver = StartReceiver(tmp.Sub("dest"), {}, &ticket);
  auto sender = StartSender(ticket, {}, {"--from-archive", tmp.Sub("deep.tar.gz")});
  int sent = sender->Wait(std::chrono::seconds(300));
  int received = receiver->Wait(std::chrono::seconds(300));
  ASSERT_EQ(sent, 0) << sender->stderr_text();
  ASSERT_EQ(received, 0) << receiver->stderr_text();
  if (!kSanitized) {
    EXPECT_LE(receiver->peak_rss_kib(), 64 * 1024) << "KiB at the receiver's peak";
  }
  std::cerr << "[ note ] receiver peak RSS " << receiver->peak_rss_kib() << " KiB\n";
  // The copy verified: the last file is there, at its depth (beyond PATH_MAX: one component at
  // a time).
  int dir = open(tmp.Sub("dest").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  for (size_t start = 0; dir >= 0 && start < deep_dir.size();) {
    size_t slash = std::min(deep_dir.find('/', start), deep_dir.size());
    int next = openat(dir, deep_dir.substr(start, slash - start).c_str(), O_PATH | O_DIRECTORY);
    close(dir);
    dir = next;
    start = slash + 1;
  }
  ASSERT_GE(dir, 0) << "the deep directory is missing";
  struct stat st;
  EXPECT_EQ(fstatat(dir, "file1199", &st, AT_SYMLINK_NOFOLLOW), 0);
  EXPECT_EQ(st.st_mode & S_IFMT, type);
  close(dir);
}

TEST(ReceiverMemory, DeepPathsOfFilesDoNotGrowTheReceiver) { ExpectBoundedReceiver(AE_IFREG); }

TEST(ReceiverMemory, DeepPathsOfSymlinksDoNotGrowTheReceiver) { ExpectBoundedReceiver(AE_IFLNK); }

// Directory entries are different: libarchive keeps each one's name until the end, to set its
// times and mode last. 40,000 directories of 3.7 KB paths (150 MB of names) are refused once
// their names pass 64 MiB, with the receiver under 128 MiB and DIR unchanged.
TEST(ReceiverMemory, TooManyLongDirectoryNamesAreRefused) {
  TempDir tmp;
  std::string parent = "top";
  for (int depth = 1; depth < 15; ++depth) parent += "/" + std::string(250, 'a' + depth % 26);
  {
    struct archive* out = archive_write_new();
    ASSERT_NE(out, nullptr);
    archive_write_set_format_pax_restricted(out);
    archive_write_add_filter_gzip(out);
    ASSERT_EQ(archive_write_open_filename(out, tmp.Sub("dirs.tar.gz").c_str()), ARCHIVE_OK);
    struct archive_entry* entry = archive_entry_new();
    for (int i = 0; i < 40000; ++i) {
      archive_entry_clear(entry);
      archive_entry_set_pathname(entry, (parent + "/d" + std::to_string(i)).c_str());
      archive_entry_set_filetype(entry, AE_IFDIR);
      archive_entry_set_perm(entry, 0755);
      ASSERT_EQ(archive_write_header(out, entry), ARCHIVE_OK) << archive_error_string(out);
    }
    archive_entry_free(entry);
    ASSERT_EQ(archive_write_close(out), ARCHIVE_OK);
    archive_write_free(out);
  }
  ASSERT_EQ(mkdir(tmp.Sub("dest").c_str(), 0755), 0);
  std::string ticket;
  auto receiver = StartReceiver(tmp.Sub("dest"), {}, &ticket);
  auto sender = StartSender(ticket, {}, {"--from-archive", tmp.Sub("dirs.tar.gz")});
  EXPECT_NE(sender->Wait(std::chrono::seconds(300)), 0);
  EXPECT_NE(receiver->Wait(std::chrono::seconds(300)), 0);
  EXPECT_TRUE(Contains(receiver->stderr_text(),
                       "the stream's directory names exceed 64 MiB, more than a receiver keeps in "
                       "memory"));
  if (!kSanitized) {
    EXPECT_LE(receiver->peak_rss_kib(), 128 * 1024) << "KiB at the receiver's peak";
  }
  std::cerr << "[ note ] receiver peak RSS " << receiver->peak_rss_kib() << " KiB\n";
  EXPECT_EQ(ListDir(tmp.Sub("dest")), std::vector<std::string>{});
}

}  // namespace
}  // namespace xfer::testing
