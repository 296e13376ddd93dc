// WriteArchive and SummarizeSources (trees), WriteFileList and SummarizeFileList (lists): what
// each entry of a walk becomes in the pax stream. Both sources share one body each for the
// summary and the stream (SummarizeWalk, ArchiveWalk); they differ only in their walk.
//
// Entries are built by hand from our own walk (archive_source_walk.h); libarchive's
// archive_read_disk is used only for archive_read_disk_entry_from_file() on descriptors we
// opened, which adds xattrs, ACLs and the sparse map. Its own tree walker is not used: it
// fchdir()s the whole process while it walks.
#include "archive_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <optional>
#include <set>
#include <utility>

#include "archive_handles.h"
#include "archive_metadata_digest.h"
#include "archive_pax_writer.h"
#include "archive_source_data.h"
#include "archive_source_list.h"
#include "archive_source_walk.h"
#include "content_digest.h"
#include "entry_marks.h"
#include "entry_path.h"
#include "fs_util.h"
#include "held_verifier.h"

namespace xfer {

namespace {

constexpr size_t kReadSize = 1 << 20;  // large reads: few syscalls per MiB, still cache-friendly

Status Replaced(const std::string& shown) {
  return Status(Code::kIoError, shown + " was replaced while being read");
}

class SourceArchiver {
 public:
  SourceArchiver(const CancelToken* cancel, const HeldFiles* held, Manifest* manifest,
                 ArchiveCounters* counters)
      : cancel_(cancel), held_(held), manifest_(manifest), counters_(counters), buffer_(kReadSize) {
    if (held_ != nullptr && manifest_ != nullptr) verifier_.emplace(cancel);
  }

  Status Open(ByteSink* sink) {
    XFER_RETURN_IF_ERROR(writer_.Open(sink));
    disk_.reset(archive_read_disk_new());
    resolver_.reset(archive_entry_linkresolver_new());
    if (!disk_ || !resolver_) return Status(Code::kIoError, "creating the archive: out of memory");
    // No uname/gname lookup is installed: owners travel as numbers only (--numeric-owner).
    archive_entry_linkresolver_set_strategy(resolver_.get(), ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE);
    return Status::Ok();
  }

  Status Visit(const WalkEntry& walked) {
    // A socket is a live endpoint, not data; tar skips it too.
    if (S_ISSOCK(walked.st.st_mode)) return Status::Ok();
    const std::string shown = EscapeForMessage(walked.path);
    ArchiveEntryPtr entry(archive_entry_new());
    if (!entry) return Status(Code::kIoError, "archiving " + shown + ": out of memory");
    archive_entry_copy_pathname(entry.get(), walked.path.c_str());
    archive_entry_copy_stat(entry.get(), &walked.st);
    DropUnrestoredTimes(entry.get());

    if (!S_ISDIR(walked.st.st_mode) && walked.st.st_nlink > 1) {
      // The tar strategy edits the entry in place: the first link of an inode stays as it is
      // (with data), later ones become hardlinks to the first one's path, without data. It never
      // holds an entry back or returns a second one (only the cpio strategies do).
      struct archive_entry* linked = entry.get();
      struct archive_entry* spare = nullptr;
      archive_entry_linkify(resolver_.get(), &linked, &spare);
      if (linked != entry.get() || spare != nullptr) {
        return Status(Code::kIoError, "archiving " + shown + ": unexpected hardlink resolution");
      }
      if (archive_entry_hardlink(entry.get()) != nullptr) return WriteMetadataOnly(entry, shown);
    }

    switch (walked.st.st_mode & S_IFMT) {
      case S_IFREG:
        return WriteRegularFile(walked, entry.get(), shown);
      case S_IFDIR:
        XFER_RETURN_IF_ERROR(AddDiskMetadata(entry.get(), walked.self_fd, walked.st, shown));
        return WriteMetadataOnly(entry, shown);
      case S_IFLNK:
        XFER_RETURN_IF_ERROR(AddSymlinkTarget(walked, entry.get(), shown));
        return WriteMetadataOnly(entry, shown);
      default:  // fifo, character and block devices: the stat says it all
        return WriteMetadataOnly(entry, shown);
    }
  }

  Status Close() {
    // The resolver hands back entries it held for later: the tar strategy holds none (see
    // Visit), and one coming out here would need data that can no longer be supplied.
    struct archive_entry* held = nullptr;
    struct archive_entry* spare = nullptr;
    archive_entry_linkify(resolver_.get(), &held, &spare);
    if (held != nullptr) {
      ArchiveEntryPtr owned(held);
      return Status(Code::kIoError, "archiving: the hardlink resolver held back '" +
                                        EscapeForMessage(archive_entry_pathname(held)) + "'");
    }
    XFER_RETURN_IF_ERROR(writer_.Close());
    return FillHeldDigests();
  }

 private:
  // The manifest records of files the receiver holds whole get their digests, taken beside the
  // stream (held_verifier.h).
  Status FillHeldDigests() {
    if (!verifier_) return Status::Ok();
    std::vector<std::pair<size_t, Digest128>> digests;
    XFER_RETURN_IF_ERROR(verifier_->Finish(&digests));
    for (const auto& [index, digest] : digests) (*manifest_)[index].digest = digest;
    return Status::Ok();
  }

  // Adds xattrs, ACLs and (for regular files) the sparse map, read through fd.
  Status AddDiskMetadata(struct archive_entry* entry, int fd, const struct stat& st,
                         const std::string& shown) {
    // A file that occupies at least its size has no holes (GNU tar's test too): skip the
    // SEEK_HOLE/SEEK_DATA probing, six lseek calls a file, which mattered for many small files.
    bool may_have_holes = S_ISREG(st.st_mode) && st.st_blocks * 512 < st.st_size;
    // ACLs are xattrs too (system.posix_acl_*), so an empty list means there is nothing to read:
    // most files then cost one system call here instead of libarchive's three or four.
    if (!may_have_holes && HasNoXattrs(fd)) return Status::Ok();
    // libarchive reads a directory's default ACL by path (acl_get_file), not through fd. The
    // descriptor's /proc name is short whatever the real path's length and does not depend on
    // the current directory.
    std::string fd_path = "/proc/self/fd/" + std::to_string(fd);
    archive_entry_copy_sourcepath(entry, fd_path.c_str());
    // File flags (chattr) are not read: tar -p does not keep them, and an immutable or
    // append-only flag restored in the staging directory would block its cleanup.
    archive_read_disk_set_behavior(
        disk_.get(),
        ARCHIVE_READDISK_NO_FFLAGS | (may_have_holes ? 0 : ARCHIVE_READDISK_NO_SPARSE));
    int r = archive_read_disk_entry_from_file(disk_.get(), entry, fd, &st);
    archive_entry_copy_sourcepath(entry, nullptr);
    DropUnrestoredTimes(entry);  // entry_from_file copied the stat again
    if (r != ARCHIVE_OK) {
      const char* message = archive_error_string(disk_.get());
      return Status(Code::kIoError,
                    "reading metadata of " + shown + ": " + (message ? message : "failed"));
    }
    return Status::Ok();
  }

  static bool HasNoXattrs(int fd) {
    ssize_t size = flistxattr(fd, nullptr, 0);
    return size == 0 || (size < 0 && errno == ENOTSUP);
  }

  Status AddSymlinkTarget(const WalkEntry& walked, struct archive_entry* entry,
                          const std::string& shown) {
    // st_size is the target's length, but the link may change meanwhile: grow until it fits.
    std::string target(static_cast<size_t>(walked.st.st_size) + 1, '\0');
    for (;;) {
      ssize_t n = readlinkat(walked.parent_fd, walked.name.c_str(), target.data(), target.size());
      if (n < 0) return Status::FromErrno(errno, "reading " + shown);
      if (static_cast<size_t>(n) < target.size()) {
        target.resize(static_cast<size_t>(n));
        break;
      }
      target.resize(target.size() * 2);
    }
    archive_entry_copy_symlink(entry, target.c_str());
    return Status::Ok();
  }

  Status WriteMetadataOnly(const ArchiveEntryPtr& entry, const std::string& shown) {
    XFER_RETURN_IF_ERROR(writer_.WriteHeader(entry.get(), shown));
    XFER_RETURN_IF_ERROR(writer_.FinishEntry(shown));
    CountEntry();
    return Status::Ok();
  }

  Status WriteRegularFile(const WalkEntry& walked, struct archive_entry* entry,
                          const std::string& shown) {
    // O_NONBLOCK: if a fifo took the file's place since the walk saw it, open must not hang.
    UniqueFd fd(openat(walked.parent_fd, walked.name.c_str(),
                       O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd.valid()) {
      if (errno == ELOOP) return Replaced(shown);
      return Status::FromErrno(errno, "reading " + shown);
    }
    struct stat st;
    if (fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, "reading " + shown);
    if (!S_ISREG(st.st_mode) || st.st_dev != walked.st.st_dev || st.st_ino != walked.st.st_ino) {
      return Replaced(shown);
    }
    XFER_RETURN_IF_ERROR(AddDiskMetadata(entry, fd.get(), st, shown));
    FileCopyContext context{&writer_, cancel_, counters_ ? &counters_->content_bytes_read : nullptr,
                            &hasher_, &buffer_};
    int64_t start = 0;
    XFER_RETURN_IF_ERROR(ClaimHeld(walked.path, entry, fd.get(), context, shown, &start));
    XFER_RETURN_IF_ERROR(writer_.WriteHeader(entry, shown));

    ManifestRecord record;
    record.path = walked.path;
    record.size = static_cast<uint64_t>(archive_entry_size(entry));
    XFER_RETURN_IF_ERROR(CopyFileContent(context, fd.get(), entry, shown, start, &record.digest));
    XFER_RETURN_IF_ERROR(writer_.FinishEntry(shown));
    if (verifier_ && start > 0 && static_cast<uint64_t>(start) == record.size) {
      verifier_->Add(std::move(fd), record.size, manifest_->size(), shown);
    }
    if (manifest_ != nullptr) manifest_->push_back(std::move(record));
    CountEntry();
    return Status::Ok();
  }

  // Sets *start to what the receiver holds of this file and need not be sent, else 0: the held
  // length when the file's metadata (size and mtime to the nanosecond included) is what the
  // receiver holds and, for a held prefix, its bytes too. Reading the held part is what makes the
  // resumed copy as strictly verified as a whole one: the manifest's digest of the file covers
  // it. For a prefix the hasher goes on from it here; a file held whole is digested by verifier_
  // beside the stream, and if it changed without its metadata showing it, the receiver's check of
  // the manifest fails the transfer and the next resume sends it whole.
  Status ClaimHeld(const std::string& path, struct archive_entry* entry, int fd,
                   const FileCopyContext& context, const std::string& shown, int64_t* start) {
    *start = 0;
    if (held_ == nullptr) return Status::Ok();
    auto found = held_->find(path);
    if (found == held_->end()) return Status::Ok();
    const HeldFile& held = found->second;
    if (held.size != static_cast<uint64_t>(archive_entry_size(entry)) || held.have > held.size ||
        held.have == 0 || MetadataDigest(entry) != held.meta) {
      return Status::Ok();
    }
    if (held.have < held.size) {
      XFER_RETURN_IF_ERROR(HashPrefix(context, fd, static_cast<int64_t>(held.have), shown));
      if (context.hasher->Finish() != held.content) return Status::Ok();  // changed: send it all
    }
    std::string have = std::to_string(held.have);
    archive_entry_xattr_add_entry(entry, kResumeXattr.data(), have.data(), have.size());
    ClipSparseMap(entry, static_cast<int64_t>(held.have));
    *start = static_cast<int64_t>(held.have);
    if (counters_ != nullptr) {
      counters_->resumed_files.fetch_add(1, std::memory_order_relaxed);
      counters_->resumed_bytes.fetch_add(held.have, std::memory_order_relaxed);
    }
    return Status::Ok();
  }

  void CountEntry() {
    if (counters_ != nullptr) counters_->entries_written.fetch_add(1, std::memory_order_relaxed);
  }

  const CancelToken* cancel_;
  const HeldFiles* held_;
  Manifest* manifest_;
  ArchiveCounters* counters_;
  PaxWriter writer_;
  ArchiveReadPtr disk_;
  LinkResolverPtr resolver_;
  ContentDigest hasher_;
  std::vector<char> buffer_;
  std::optional<HeldVerifier> verifier_;  // with held_
};

// A source's walk: calls visit for every entry, in stream order (WalkSources, WalkFileList).
using SourceWalk = std::function<Status(const CancelToken* cancel, const WalkVisitor& visit)>;

// The totals of what walk finds; top_names are the caller's. sent_tops (may be null) gets the
// top-level entries that are sent (every sent entry's top comes first, as its parent).
Status SummarizeWalk(const SourceWalk& walk, SourceSummary* summary,
                     std::set<std::string>* sent_tops) {
  // Inodes with several links are counted once, as WriteArchive reads them once: the totals are
  // then what the stream carries and what the destination will hold.
  std::set<std::pair<dev_t, ino_t>> linked_inodes;
  return walk(nullptr, [&](const WalkEntry& walked) {
    const struct stat& st = walked.st;
    if (S_ISSOCK(st.st_mode)) return Status::Ok();  // not archived, see SourceArchiver::Visit
    ++summary->entries;
    if (sent_tops != nullptr && walked.path.find('/') == std::string::npos) {
      sent_tops->insert(walked.path);
    }
    if (!S_ISREG(st.st_mode)) return Status::Ok();
    if (st.st_nlink > 1 && !linked_inodes.emplace(st.st_dev, st.st_ino).second) {
      return Status::Ok();
    }
    ++summary->files;
    summary->content_bytes += static_cast<uint64_t>(st.st_size);
    summary->allocated_bytes += static_cast<uint64_t>(st.st_blocks) * 512;
    return Status::Ok();
  });
}

Status ArchiveWalk(const SourceWalk& walk, ByteSink* sink, const CancelToken* cancel,
                   const HeldFiles* held, Manifest* manifest, ArchiveCounters* counters) {
  SourceArchiver archiver(cancel, held, manifest, counters);
  XFER_RETURN_IF_ERROR(archiver.Open(sink));
  XFER_RETURN_IF_ERROR(
      walk(cancel, [&](const WalkEntry& walked) { return archiver.Visit(walked); }));
  return archiver.Close();
}

SourceWalk TreeWalk(const std::vector<SourceTop>& tops) {
  return [&tops](const CancelToken* cancel, const WalkVisitor& visit) {
    return WalkSources(tops, cancel, visit);
  };
}

SourceWalk ListWalk(const ResolvedFileList& list) {
  return [&list](const CancelToken* cancel, const WalkVisitor& visit) {
    return WalkFileList(list, cancel, visit);
  };
}

}  // namespace

Status SummarizeSources(const std::vector<std::string>& paths, SourceSummary* out) {
  std::vector<SourceTop> tops;
  XFER_RETURN_IF_ERROR(ResolveSourceTops(paths, &tops));
  SourceSummary summary;
  for (const SourceTop& top : tops) summary.top_names.push_back(top.name);
  XFER_RETURN_IF_ERROR(SummarizeWalk(TreeWalk(tops), &summary, nullptr));
  *out = std::move(summary);
  return Status::Ok();
}

Status WriteArchive(const std::vector<std::string>& paths, ByteSink* sink,
                    const CancelToken* cancel, const HeldFiles* held, Manifest* manifest,
                    ArchiveCounters* counters) {
  std::vector<SourceTop> tops;
  XFER_RETURN_IF_ERROR(ResolveSourceTops(paths, &tops));
  return ArchiveWalk(TreeWalk(tops), sink, cancel, held, manifest, counters);
}

Status SummarizeFileList(const FileList& list, SourceSummary* out) {
  ResolvedFileList resolved;
  XFER_RETURN_IF_ERROR(ResolveFileList(list, &resolved));
  SourceSummary summary;
  std::set<std::string> sent_tops;
  XFER_RETURN_IF_ERROR(SummarizeWalk(ListWalk(resolved), &summary, &sent_tops));
  // A top-level socket is not sent: announcing it would make the receiver look for it.
  for (const std::string& top : resolved.top_names) {
    if (sent_tops.count(top) != 0) summary.top_names.push_back(top);
  }
  if (summary.top_names.empty()) {
    return Status(Code::kInvalidArgument, "files-from " + EscapeForMessage(list.origin) +
                                              ": the list names nothing to send");
  }
  *out = std::move(summary);
  return Status::Ok();
}

Status WriteFileList(const FileList& list, ByteSink* sink, const CancelToken* cancel,
                     const HeldFiles* held, Manifest* manifest, ArchiveCounters* counters) {
  ResolvedFileList resolved;
  XFER_RETURN_IF_ERROR(ResolveFileList(list, &resolved));
  return ArchiveWalk(ListWalk(resolved), sink, cancel, held, manifest, counters);
}

}  // namespace xfer
