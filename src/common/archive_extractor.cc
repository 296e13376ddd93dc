// ExtractArchive: pax stream in, files under the staging directory out, one manifest record per
// regular file written.
//
// libarchive reads the stream (archive_read, tar formats only) and writes the disk
// (archive_write_disk). Before an entry reaches the disk writer its path is checked here
// (entry_path.h) and named through the staging directory's descriptor, its parent resolved
// without following symlinks (archive_disk_path.h), so the process's current directory never
// matters and is never changed, and no symlink, made by the stream or by anyone, is written
// through.
#include "archive_extractor.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "archive_disk_path.h"
#include "archive_entry_data.h"
#include "archive_handles.h"
#include "archive_metadata_digest.h"
#include "content_digest.h"
#include "entry_marks.h"
#include "entry_path.h"
#include "fs_util.h"
#include "resume_recorder.h"
#include "symlink_guard.h"

namespace xfer {

namespace {

// What is restored: as `tar -xp --xattrs --acls --numeric-owner` as root. No uname/gname lookup
// is installed, so owners are the numbers in the stream.
// Not ARCHIVE_EXTRACT_FFLAGS: the sender does not send file flags (tar -p keeps none), and an
// immutable or append-only flag set by a stream would make the staging directory impossible to
// clean up. Not ARCHIVE_EXTRACT_SPARSE: holes come from the stream's sparse map, exactly where
// the source had them; that flag would also punch holes into every run of zeros written as data.
// Not ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS: every name handed over is absolute, by design
// (see archive_disk_path.h); entry paths themselves are checked to be relative beforehand.
// Not ARCHIVE_EXTRACT_SECURE_SYMLINKS: with absolute names it opens and stats every component
// of the staging path for every entry (about ten system calls a file, which doubled the time of
// 20,000 small files). DiskPaths resolves each entry's parent with one openat2 beneath the
// staging directory that follows no symlink (once for a row of files in one directory), and
// SymlinkGuard names the stream's own links in its refusals.
constexpr int kExtractFlags = ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                              ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_ACL |
                              ARCHIVE_EXTRACT_SECURE_NODOTDOT;

// Hands libarchive the source's buffers as they are (no copy) and keeps the source's own error.
struct SourceReader {
  ByteSource* source;
  Status status;
  bool ended = false;  // the source said the stream ended

  static la_ssize_t Read(struct archive*, void* self, const void** buffer) {
    auto* reader = static_cast<SourceReader*>(self);
    if (reader->ended) return 0;
    const void* data = nullptr;
    size_t len = 0;
    reader->status = reader->source->Next(&data, &len);
    if (!reader->status.ok()) return -1;
    reader->ended = len == 0;
    *buffer = data;
    return static_cast<la_ssize_t>(len);
  }
};

// At most this much of directory entries' names is kept until the end of a stream: room for
// 500,000 directories of 128-character paths.
constexpr uint64_t kMaxDirectoryNameBytes = uint64_t{64} << 20;

bool IsSupportedType(mode_t type) {
  return type == AE_IFREG || type == AE_IFDIR || type == AE_IFLNK || type == AE_IFIFO ||
         type == AE_IFCHR || type == AE_IFBLK;
}

class Extractor {
 public:
  Extractor(ByteSource* source, const ExtractOptions& options, const CancelToken* cancel,
            WrittenFiles* written, ExtractCounters* counters)
      : options_(options),
        cancel_(cancel),
        written_(written),
        counters_(counters),
        source_{source, Status::Ok(), false} {}

  Status Run() {
    XFER_RETURN_IF_ERROR(Open());
    for (;;) {
      if (Cancelled()) return Status(Code::kCancelled, "cancelled");
      struct archive_entry* entry = nullptr;
      int r = archive_read_next_header(reader_.get(), &entry);
      if (r == ARCHIVE_EOF) {
        // libarchive also reports EOF when the bytes simply stop between two entries (or after
        // one of the two zero blocks of the end marker); a stream cut there would look whole.
        // Our writer always ends with both blocks, and reading them never needs the source's
        // end: having hit it means the marker is missing.
        if (source_.ended) {
          return Status(Code::kProtocol,
                        "reading the archive: it ends without an end-of-archive marker");
        }
        break;  // what follows the marker is not ours
      }
      if (r != ARCHIVE_OK) {
        return ReadFailure(last_entry_.empty() ? std::string("reading the archive")
                                               : "reading the archive after '" + last_entry_ + "'");
      }
      XFER_RETURN_IF_ERROR(ExtractEntry(entry));
    }
    if (options_.prune_adopted) XFER_RETURN_IF_ERROR(options_.prune_adopted(entry_paths_));
    // Directory times, modes and ACLs are set here, after their content was written (which would
    // have changed the times, and which a 0500 mode or a default ACL would have affected).
    if (archive_write_close(disk_.get()) != ARCHIVE_OK) {
      return WriteFailure("setting directory metadata");
    }
    return Status::Ok();
  }

 private:
  Status Open() {
    for (const std::string& name : options_.top_names) {
      if (!IsValidTopName(name)) {
        return Status(Code::kInvalidArgument,
                      "invalid top-level name '" + EscapeForMessage(name) + "'");
      }
    }
    if (options_.staging_dir.empty() || options_.staging_dir.front() != '/') {
      return Status(Code::kInvalidArgument, "the staging directory must be an absolute path");
    }
    staging_fd_.reset(open(options_.staging_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!staging_fd_.valid()) {
      return Status::FromErrno(errno, "opening the staging directory " + options_.staging_dir);
    }
    anchor_ = ProcFdPath(staging_fd_.get());
    paths_.emplace(staging_fd_.get(), anchor_);
    reader_.reset(archive_read_new());
    disk_.reset(archive_write_disk_new());
    if (!reader_ || !disk_) return Status(Code::kIoError, "creating the extractor: out of memory");
    archive_read_support_format_tar(reader_.get());  // pax is tar
    archive_write_disk_set_options(
        disk_.get(), RestoresOwners() ? kExtractFlags : kExtractFlags & ~ARCHIVE_EXTRACT_OWNER);
    if (archive_read_open(reader_.get(), &source_, nullptr, &SourceReader::Read, nullptr) !=
        ARCHIVE_OK) {
      return ReadFailure("reading the archive");
    }
    return Status::Ok();
  }

  Status ExtractEntry(struct archive_entry* entry) {
    EntryMarks marks;
    TakeEntryMarks(entry, &marks);  // first: a path mark is the entry's path
    const char* raw_path = archive_entry_pathname(entry);
    if (raw_path == nullptr) return Status(Code::kProtocol, "archive entry without a path");
    std::string rel;
    XFER_RETURN_IF_ERROR(CheckEntryPath(raw_path, options_.top_names, &rel));
    const std::string shown = EscapeForMessage(rel);
    last_entry_ = shown;
    // A hardlink entry has no type of its own (the tar reader leaves it 0): it is its target's.
    if (archive_entry_hardlink(entry) == nullptr &&
        !IsSupportedType(archive_entry_filetype(entry))) {
      return Status(Code::kProtocol, "refusing entry '" + shown + "': unsupported file type");
    }
    if (!options_.devices && archive_entry_hardlink(entry) == nullptr &&
        (archive_entry_filetype(entry) == AE_IFCHR || archive_entry_filetype(entry) == AE_IFBLK)) {
      return Status(Code::kUnsafe, "refusing entry '" + shown + "': a device (--no-devices)");
    }
    if (options_.prune_adopted) AddWithParents(rel);
    std::optional<HeldFile> resumed;
    XFER_RETURN_IF_ERROR(CheckResumeMark(entry, marks, rel, shown, &resumed));
    const bool keep_whole = resumed && resumed->have == resumed->size;
    if (options_.recorder != nullptr && !keep_whole) {
      XFER_RETURN_IF_ERROR(options_.recorder->Replacing(rel));
    }

    // Anything but a regular file may change a directory on the way to later entries.
    const bool plain_file =
        archive_entry_filetype(entry) == AE_IFREG && archive_entry_hardlink(entry) == nullptr;
    if (!plain_file) paths_->Forget();
    XFER_RETURN_IF_ERROR(symlinks_.CheckPath(rel, shown));
    std::string disk_path;
    XFER_RETURN_IF_ERROR(paths_->Resolve(rel, symlinks_.Replaced(rel), &disk_path));
    if (keep_whole) return KeepHeld(entry, *resumed, disk_path, shown);
    UniqueFd held_part;
    if (resumed) XFER_RETURN_IF_ERROR(DetachHeld(*resumed, disk_path, shown, &held_part));
    XFER_RETURN_IF_ERROR(CountDirectoryName(entry, disk_path, shown));
    std::string old_dir;
    if (options_.prune_adopted && archive_entry_filetype(entry) == AE_IFDIR) {
      XFER_RETURN_IF_ERROR(SetAsideExistingDir(disk_path, shown, &old_dir));
    }
    archive_entry_copy_pathname(entry, disk_path.c_str());

    const char* raw_target = archive_entry_hardlink(entry);
    std::string target;
    if (raw_target != nullptr) {
      XFER_RETURN_IF_ERROR(CheckHardlinkTarget(rel, raw_target, options_.top_names, &target));
      XFER_RETURN_IF_ERROR(symlinks_.CheckPath(target, shown));
      std::string disk_target;
      XFER_RETURN_IF_ERROR(paths_->Resolve(target, false, &disk_target));
      archive_entry_copy_hardlink(entry, disk_target.c_str());
      // A hardlink adds a name, never content: data in a hardlink entry (pax allows it) would be
      // written through the link into the first file, behind the manifest's back.
      archive_entry_set_size(entry, 0);
    }

    const Digest128 meta =
        plain_file && options_.recorder != nullptr ? MetadataDigest(entry) : Digest128{};
    // After the digest: the journal records the metadata the sender sent, which a resume offers.
    if (!options_.setuid || !RestoresOwners()) {
      archive_entry_set_perm(entry, archive_entry_perm(entry) & ~(S_ISUID | S_ISGID));
    }
    if (archive_write_header(disk_.get(), entry) != ARCHIVE_OK) {
      return WriteFailure("writing " + shown);
    }
    if (!old_dir.empty()) XFER_RETURN_IF_ERROR(MoveContentInto(old_dir, disk_path, shown));
    ManifestRecord record{rel, 0, {}};
    if (plain_file) {
      XFER_RETURN_IF_ERROR(
          CopyData(entry, resumed ? &*resumed : nullptr, held_part.get(), meta, &record));
    }
    // Ownership, modes, times, xattrs and ACLs are applied here; so are errors like ENOSPC from
    // the last writes.
    if (archive_write_finish_entry(disk_.get()) != ARCHIVE_OK) {
      return WriteFailure("writing " + shown);
    }
    if (!plain_file) paths_->Forget();
    if (plain_file) {
      if (options_.recorder != nullptr) {
        XFER_RETURN_IF_ERROR(
            options_.recorder->Completed({rel, record.size, record.size, meta, record.digest}));
      }
      if (written_ != nullptr) written_->push_back(WrittenOf(record));
    }
    symlinks_.Written(rel, archive_entry_filetype(entry) == AE_IFLNK, target);
    CountEntry();
    return Status::Ok();
  }

  // libarchive keeps the name of every directory entry until the end, to set its times and mode
  // last: their total is the one thing a receiver keeps that grows with the bytes of the paths a
  // sender chose, so it is capped.
  Status CountDirectoryName(struct archive_entry* entry, const std::string& disk_path,
                            const std::string& shown) {
    if (archive_entry_filetype(entry) != AE_IFDIR || archive_entry_hardlink(entry) != nullptr) {
      return Status::Ok();
    }
    directory_name_bytes_ += disk_path.size();
    if (directory_name_bytes_ <= kMaxDirectoryNameBytes) return Status::Ok();
    return Status(Code::kProtocol, "refusing entry '" + shown +
                                       "': the stream's directory names exceed " +
                                       std::to_string(kMaxDirectoryNameBytes >> 20) +
                                       " MiB, more than a receiver keeps in memory");
  }

  // As tar: owners only as root (anyone else cannot give a file away), and only when asked.
  bool RestoresOwners() const { return options_.same_owner && geteuid() == 0; }

  void AddWithParents(const std::string& rel) {
    ForEachParentDigest(rel, [this](const Digest128& parent, size_t) {
      entry_paths_.insert(parent);
      return true;
    });
    entry_paths_.insert(PathDigest(rel));
  }

  // A resumed entry carries a resume mark (entry_marks.h). It must name a regular file this
  // receiver offered, once, with the size and metadata it holds, and resume at most from where
  // the held part ends (less when another receiver of the same stream holds less). *resumed is
  // then the held file, `have` set to where the entry resumes.
  Status CheckResumeMark(struct archive_entry* entry, const EntryMarks& marks,
                         const std::string& rel, const std::string& shown,
                         std::optional<HeldFile>* resumed) {
    resumed->reset();
    if (!marks.resume) return Status::Ok();
    const std::string& mark = *marks.resume;
    auto refuse = [&](const std::string& why) {
      return Status(Code::kProtocol, "refusing entry '" + shown + "': " + why);
    };
    if (options_.held == nullptr || options_.held->count(rel) == 0) {
      return refuse("it resumes a file this receiver does not hold");
    }
    const HeldFile& held = options_.held->at(rel);
    uint64_t from = 0;
    auto [end, error] = std::from_chars(mark.data(), mark.data() + mark.size(), from);
    if (error != std::errc() || end != mark.data() + mark.size() || from == 0 || from > held.have ||
        archive_entry_hardlink(entry) != nullptr || archive_entry_filetype(entry) != AE_IFREG ||
        static_cast<uint64_t>(archive_entry_size(entry)) != held.size ||
        MetadataDigest(entry) != held.meta) {
      return refuse("it resumes the held file with other figures than this receiver offered");
    }
    if (!resumed_.insert(rel).second) return refuse("it resumes the same file twice");
    *resumed = held;
    (*resumed)->have = from;
    return Status::Ok();
  }

  // An adopted directory is moved out of the way (to a name in the staging directory that no
  // entry can have: the top level holds only the announced names), so that the entry makes a
  // new one that gets the entry's metadata; its content then moves into the new one.
  Status SetAsideExistingDir(const std::string& disk_path, const std::string& shown,
                             std::string* aside) {
    struct stat st;
    if (lstat(disk_path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return Status::Ok();
    std::string name;
    do {
      name = ".xfer-adopted-" + std::to_string(++aside_count_);
    } while (std::find(options_.top_names.begin(), options_.top_names.end(), name) !=
             options_.top_names.end());
    *aside = anchor_ + "/" + name;
    if (rename(disk_path.c_str(), aside->c_str()) != 0) {
      return Status::FromErrno(errno, "replacing the directory " + shown);
    }
    return Status::Ok();
  }

  // Moves the content of the set-aside directory into the new one, and removes the old one. (A
  // crash meanwhile leaves it in the staging directory, where the next resume prunes it.)
  Status MoveContentInto(const std::string& aside, const std::string& disk_path,
                         const std::string& shown) {
    constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    UniqueFd from(open(aside.c_str(), kFlags));
    UniqueFd to(open(disk_path.c_str(), kFlags));
    std::vector<std::string> names;
    if (!from.valid() || !to.valid()) return Status::FromErrno(errno, "writing " + shown);
    XFER_RETURN_IF_ERROR(ListNames(from.get(), shown, &names));
    for (const std::string& name : names) {
      if (renameat(from.get(), name.c_str(), to.get(), name.c_str()) != 0) {
        return Status::FromErrno(errno, "moving what " + shown + " held");
      }
    }
    if (rmdir(aside.c_str()) != 0) return Status::FromErrno(errno, "writing " + shown);
    return Status::Ok();
  }

  // A file held whole stays as it is, with the metadata it was given then (the same: see
  // TakeResumeMark). Its digest is the journal's, taken when it was written and synced. Its owner
  // and mode are set again as this run's options would write them (--no-same-owner,
  // --no-setuid may differ from the interrupted run's).
  Status KeepHeld(struct archive_entry* entry, const HeldFile& held, const std::string& disk_path,
                  const std::string& shown) {
    struct stat st;
    if (lstat(disk_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<uint64_t>(st.st_size) != held.size) {
      return Status(Code::kProtocol,
                    "refusing entry '" + shown +
                        "': the file it resumes is no longer in the staging directory");
    }
    uid_t uid = RestoresOwners() ? archive_entry_uid(entry) : geteuid();
    gid_t gid = RestoresOwners() ? archive_entry_gid(entry) : getegid();
    // Only the setuid and setgid bits: the others are as written (with an ACL, the group bits
    // are its mask, which the entry's mode does not carry).
    constexpr mode_t kSetId = S_ISUID | S_ISGID;
    mode_t set_id = options_.setuid && RestoresOwners() ? archive_entry_perm(entry) & kSetId : 0;
    mode_t mode = (st.st_mode & 07777 & ~kSetId) | set_id;
    bool chowned = st.st_uid != uid || st.st_gid != gid;
    // chown first: it clears the setuid and setgid bits that chmod then sets again.
    if (chowned && lchown(disk_path.c_str(), uid, gid) != 0) {
      return Status::FromErrno(errno, "setting the owner of " + shown);
    }
    if ((chowned || mode != (st.st_mode & 07777)) && chmod(disk_path.c_str(), mode) != 0) {
      return Status::FromErrno(errno, "setting the mode of " + shown);
    }
    if (archive_read_data_skip(reader_.get()) != ARCHIVE_OK) return ReadFailure("reading " + shown);
    if (written_ != nullptr)
      written_->push_back(WrittenFile{PathDigest(held.path), held.size, held.content});
    AddProgress(static_cast<int64_t>(held.size));
    CountResumed(held.size);
    CountEntry();
    return Status::Ok();
  }

  // The held file whose prefix a resumed entry continues: opened, then unlinked so that the
  // entry is written as a new file (with all its metadata) and a crash leaves nothing behind.
  Status DetachHeld(const HeldFile& held, const std::string& disk_path, const std::string& shown,
                    UniqueFd* out) {
    UniqueFd fd(open(disk_path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st;
    if (!fd.valid() || fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<uint64_t>(st.st_size) < held.have) {
      return Status(Code::kProtocol,
                    "refusing entry '" + shown +
                        "': the part it resumes is no longer in the staging directory");
    }
    if (unlink(disk_path.c_str()) != 0) return Status::FromErrno(errno, "replacing " + shown);
    *out = std::move(fd);
    return Status::Ok();
  }

  // Copies the entry's data blocks to disk at their offsets (the gaps between them stay holes)
  // and digests the logical content exactly as the sender did: gaps and a trailing hole as zeros.
  // A resumed entry's held prefix comes first, from held_fd; when it is all the receiver held,
  // it must digest as it did then (a shorter one is checked by the file's digest at the end).
  Status CopyData(struct archive_entry* entry, const HeldFile* resumed, int held_fd,
                  const Digest128& meta, ManifestRecord* record) {
    const std::string shown = EscapeForMessage(record->path);
    const int64_t size = archive_entry_size(entry);
    int64_t position = 0;
    hasher_.Reset();
    if (resumed != nullptr) {
      XFER_RETURN_IF_ERROR(ReplayHeld(held_fd, static_cast<int64_t>(resumed->have), shown));
      const HeldFile& offered = options_.held->at(resumed->path);
      if (offered.have == resumed->have && hasher_.Finish() != resumed->content) {
        return Status(Code::kCorrupt, "the part of " + shown +
                                          " held from the interrupted transfer changed on disk; "
                                          "it will be sent whole next time");
      }
      position = static_cast<int64_t>(resumed->have);
      CountResumed(resumed->have);
    }
    XFER_RETURN_IF_ERROR(ReadEntryData(
        reader_.get(), size, shown, &hasher_, &position, [this] { return Cancelled(); },
        [this](const std::string& context) { return ReadFailure(context); },
        [&](const DataBlock& block) {
          if (archive_write_data_block(disk_.get(), block.data, block.len, block.offset) < 0) {
            return WriteFailure("writing " + shown);
          }
          AddProgress(block.advanced);
          if (options_.recorder == nullptr) return Status::Ok();
          return options_.recorder->Writing({record->path, static_cast<uint64_t>(size),
                                             static_cast<uint64_t>(position), meta,
                                             hasher_.Finish()});
        }));
    // libarchive's finish_entry extends the file to its size, leaving the trailing hole a hole.
    hasher_.UpdateZeros(static_cast<uint64_t>(size - position));
    AddProgress(size - position);
    record->size = static_cast<uint64_t>(size);
    record->digest = hasher_.Finish();
    return Status::Ok();
  }

  // Writes the first `have` bytes of the held file into the entry being written and digests
  // them; its holes stay holes.
  Status ReplayHeld(int fd, int64_t have, const std::string& shown) {
    if (replay_buffer_.empty()) replay_buffer_.resize(size_t{1} << 20);
    int64_t offset = 0;
    while (offset < have) {
      if (Cancelled()) return Status(Code::kCancelled, "cancelled");
      off_t data = lseek(fd, offset, SEEK_DATA);
      if (data < 0 && errno != ENXIO)
        return Status::FromErrno(errno, "reading the held part of " + shown);
      data = data < 0 ? have : std::min<int64_t>(data, have);
      hasher_.UpdateZeros(static_cast<uint64_t>(data - offset));
      offset = data;
      if (offset >= have) break;
      off_t hole = lseek(fd, offset, SEEK_HOLE);
      if (hole < 0) return Status::FromErrno(errno, "reading the held part of " + shown);
      const int64_t end = std::min<int64_t>(hole, have);
      while (offset < end) {
        size_t want = static_cast<size_t>(
            std::min<int64_t>(end - offset, static_cast<int64_t>(replay_buffer_.size())));
        ssize_t got = pread(fd, replay_buffer_.data(), want, offset);
        if (got <= 0) {
          if (got < 0 && errno == EINTR) continue;
          return got < 0 ? Status::FromErrno(errno, "reading the held part of " + shown)
                         : Status(Code::kIoError,
                                  "the held part of " + shown + " is shorter than recorded");
        }
        hasher_.Update(replay_buffer_.data(), static_cast<size_t>(got));
        if (archive_write_data_block(disk_.get(), replay_buffer_.data(), static_cast<size_t>(got),
                                     offset) < 0) {
          return WriteFailure("writing " + shown);
        }
        offset += got;
      }
    }
    AddProgress(have);
    return Status::Ok();
  }

  void CountEntry() {
    if (counters_ != nullptr) counters_->entries_written.fetch_add(1, std::memory_order_relaxed);
  }

  void CountResumed(uint64_t bytes) {
    if (counters_ == nullptr) return;
    counters_->resumed_files.fetch_add(1, std::memory_order_relaxed);
    counters_->resumed_bytes.fetch_add(bytes, std::memory_order_relaxed);
  }

  void AddProgress(int64_t bytes) {
    if (counters_ != nullptr && bytes > 0) {
      counters_->content_bytes_written.fetch_add(static_cast<uint64_t>(bytes),
                                                 std::memory_order_relaxed);
    }
  }

  bool Cancelled() const { return cancel_ != nullptr && cancel_->IsCancelled(); }

  // The source's own failure explains more than libarchive's reaction to it.
  Status ReadFailure(const std::string& context) const {
    if (!source_.status.ok()) return source_.status;
    const char* message = archive_error_string(reader_.get());
    return Status(Code::kProtocol, context + ": " + (message ? message : "malformed archive"));
  }

  Status WriteFailure(const std::string& context) const {
    int err = archive_errno(disk_.get());
    if (err == ENOSPC || err == EDQUOT) return Status::FromErrno(err, context);
    const char* message = archive_error_string(disk_.get());
    Code code = err > 0 ? Status::FromErrno(err, "").code() : Code::kIoError;
    return Status(code, context + ": " + (message ? message : "failed"));
  }

  const ExtractOptions& options_;
  const CancelToken* cancel_;
  WrittenFiles* written_;
  ExtractCounters* counters_;
  SourceReader source_;
  std::string last_entry_;
  SymlinkGuard symlinks_;
  ContentDigest hasher_;
  std::unordered_set<std::string> resumed_;  // paths a resumed entry claimed
  PathDigestSet entry_paths_;                // with prune_adopted
  uint64_t aside_count_ = 0;
  uint64_t directory_name_bytes_ = 0;  // what libarchive keeps of directory entries
  std::vector<char> replay_buffer_;
  // Declared before the disk writer so that they outlive it: archive_write_free() may still use
  // the /proc names handed out (see archive_disk_path.h).
  UniqueFd staging_fd_;
  std::string anchor_;              // ProcFdPath(staging_fd_)
  std::optional<DiskPaths> paths_;  // once open
  ArchiveReadPtr reader_;
  ArchiveWritePtr disk_;
};

}  // namespace

Status ExtractArchive(ByteSource* source, const ExtractOptions& options, const CancelToken* cancel,
                      WrittenFiles* written, ExtractCounters* counters) {
  Extractor extractor(source, options, cancel, written, counters);
  return extractor.Run();
}

}  // namespace xfer
