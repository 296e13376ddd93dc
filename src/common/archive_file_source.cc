// SummarizeArchiveFile and CopyArchiveFile. One reader (ArchiveFileReader) decides, once per
// entry, what the entry becomes in the stream; both passes ask it, so the summary announced to
// the receiver and the stream that follows cannot disagree.
#include "archive_file_source.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "archive_handles.h"
#include "archive_metadata_digest.h"
#include "archive_pax_writer.h"
#include "content_digest.h"
#include "entry_marks.h"
#include "entry_path.h"
#include "fs_util.h"

namespace xfer {

namespace {

constexpr size_t kReadBlock = size_t{256} * 1024;  // libarchive's reads of the archive file
constexpr int64_t kDiskBlock = 4096;

struct Extent {
  int64_t offset;
  int64_t length;
};

// What an entry of the archive becomes in the stream.
enum class Kind {
  kSkipped,   // no name left after stripping, or a socket
  kFile,      // a regular file with its content
  kHardlink,  // another name for an earlier entry, without content
  kOther,     // directory, symlink, fifo, device: metadata only
};

struct PlannedEntry {
  Kind kind = Kind::kSkipped;
  std::string path;             // as sent: stripped and normalized
  std::string target;           // kHardlink: the target as sent
  std::vector<Extent> extents;  // kFile: where its data lies (all of it when not sparse)
};

// The entry's data extents, in order, without empty ones. False when the archive's sparse map
// overlaps itself or reaches past the file's size.
bool DataExtents(struct archive_entry* entry, int64_t size, std::vector<Extent>* out) {
  out->clear();
  if (archive_entry_sparse_reset(entry) == 0) {
    if (size > 0) out->push_back({0, size});
    return true;
  }
  la_int64_t offset = 0;
  la_int64_t length = 0;
  int64_t end = 0;
  while (archive_entry_sparse_next(entry, &offset, &length) == ARCHIVE_OK) {
    if (offset < end || length < 0 || offset > size || length > size - offset) return false;
    if (length > 0) out->push_back({offset, length});
    end = offset + length;
  }
  return true;
}

// The estimate of what a file takes on the receiver's disk: its data rounded up to 4 KiB blocks
// per extent (holes stay holes there). The archive does not say what the source file occupied.
uint64_t AllocatedEstimate(const std::vector<Extent>& extents) {
  uint64_t total = 0;
  for (const Extent& extent : extents) {
    total += static_cast<uint64_t>((extent.length + kDiskBlock - 1) / kDiskBlock * kDiskBlock);
  }
  return total;
}

class ArchiveFileReader {
 public:
  ArchiveFileReader(const std::string& path, int strip_components)
      : path_(path), strip_(strip_components), prefix_("archive " + EscapeForMessage(path)) {}

  Status Open() {
    if (strip_ < 0) {
      return Status(Code::kInvalidArgument, "--strip-components must not be negative");
    }
    XFER_RETURN_IF_ERROR(CheckFile());
    reader_.reset(archive_read_new());
    if (!reader_) return Status(Code::kIoError, prefix_ + ": out of memory");
    struct archive* a = reader_.get();
    archive_read_support_filter_all(a);
    // Every format but two: mtree is a text listing that names files on this host and reads
    // their content from the current directory, and raw would take any file (a stray .gz of a
    // log) as an archive of one entry.
    archive_read_support_format_7zip(a);
    archive_read_support_format_ar(a);
    archive_read_support_format_cab(a);
    archive_read_support_format_cpio(a);
    archive_read_support_format_empty(a);
    archive_read_support_format_iso9660(a);
    archive_read_support_format_lha(a);
    archive_read_support_format_rar(a);
    archive_read_support_format_rar5(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_warc(a);
    archive_read_support_format_xar(a);
    archive_read_support_format_zip(a);
    // By name, not by descriptor: libarchive can then seek, which the zip reader needs to read
    // the central directory (where modes and symlinks are).
    if (archive_read_open_filename(a, path_.c_str(), kReadBlock) != ARCHIVE_OK) {
      return Failure("");
    }
    return Status::Ok();
  }

  // Reads the next header and decides what the entry becomes; *entry is null at the end. The
  // entry belongs to the reader and stays valid until the next call.
  Status Next(struct archive_entry** entry, PlannedEntry* planned) {
    *entry = nullptr;
    struct archive_entry* read = nullptr;
    int r = archive_read_next_header(reader_.get(), &read);
    if (r == ARCHIVE_EOF) return Status::Ok();
    // ARCHIVE_WARN is taken, as tar takes it: it says, for one, that a name is not valid in the
    // locale's charset (its bytes are kept, which is what is sent).
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return Failure(shown_.empty() ? std::string() : "after entry '" + shown_ + "': ");
    }
    // Marks are xfer's own (entry_marks.h): a path mark (an archive a receiver stored) is the
    // entry's path; a resume mark must not come in from an archive.
    EntryMarks marks;
    TakeEntryMarks(read, &marks);
    const char* raw = archive_entry_pathname(read);
    if (raw == nullptr) {
      return Status(Code::kCorrupt, prefix_ + ": an entry " +
                                        (shown_.empty() ? "" : "after '" + shown_ + "' ") +
                                        "has no name that can be read");
    }
    shown_ = EscapeForMessage(raw);
    XFER_RETURN_IF_ERROR(Plan(read, raw, planned));
    if (planned->kind != Kind::kSkipped) AddTopName(planned->path);
    *entry = read;
    return Status::Ok();
  }

  // After the last entry: an archive with nothing to send is refused (there would be no
  // top-level name to commit).
  Status CheckNotEmpty() const {
    if (!top_names_.empty()) return Status::Ok();
    std::string why = strip_ == 0 ? "holds no entries"
                                  : "holds no entries with more than " + std::to_string(strip_) +
                                        " path components";
    return Status(Code::kInvalidArgument, prefix_ + ": " + why);
  }

  // The failure of the last libarchive call, naming the archive; `where` ("entry 'x': ") is put
  // between that and libarchive's message.
  Status Failure(const std::string& where) const {
    const char* message = reader_ ? archive_error_string(reader_.get()) : nullptr;
    int err = reader_ ? archive_errno(reader_.get()) : 0;
    Code code = err == EIO || err == ENOMEM ? Code::kIoError : Code::kCorrupt;
    return Status(code, prefix_ + ": " + where + (message ? message : "unreadable"));
  }

  Status Refuse(Code code, const std::string& why) const {
    return Status(code, prefix_ + ": entry '" + shown_ + "': " + why);
  }

  struct archive* get() const {
    return reader_.get();
  }
  // The current entry's name in the archive, escaped for messages.
  const std::string& shown() const { return shown_; }
  const std::vector<std::string>& top_names() const { return top_names_; }

 private:
  // The archive is read twice (summary, then stream), and libarchive's message for a missing
  // file ("Failed to open '...'") lacks the reason.
  Status CheckFile() const {
    struct stat st;
    if (stat(path_.c_str(), &st) != 0) return Status::FromErrno(errno, prefix_);
    if (S_ISDIR(st.st_mode)) return Status::FromErrno(EISDIR, prefix_);
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
      return Status(Code::kInvalidArgument,
                    prefix_ +
                        ": not a regular file (the archive is read twice: to announce its "
                        "size, then to send it)");
    }
    UniqueFd fd(open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd.valid()) return Status::FromErrno(errno, prefix_);
    return Status::Ok();
  }

  Status Plan(struct archive_entry* entry, const char* raw, PlannedEntry* planned) {
    planned->kind = Kind::kSkipped;
    planned->target.clear();
    planned->extents.clear();
    XFER_RETURN_IF_ERROR(StripName(raw, "path ", &planned->path));
    if (planned->path.empty()) return Status::Ok();  // as tar: nothing left to name it by

    if (const char* link = archive_entry_hardlink(entry)) {
      const std::string what = "hardlink target '" + EscapeForMessage(link) + "' ";
      XFER_RETURN_IF_ERROR(StripName(link, what, &planned->target));
      // Its target was skipped, having no name left: there is nothing to link to. tar fails on
      // such a link too ("Cannot hard link to ''"), and a name silently missing would be worse.
      if (planned->target.empty()) {
        return Refuse(Code::kInvalidArgument, what + "has no name left after stripping " +
                                                  std::to_string(strip_) + " path components");
      }
      // A cheap check that catches links into stripped-away or missing parts of the archive
      // before the receiver fails on them: the target's top-level name must have been seen.
      if (seen_top_names_.count(std::string(FirstComponent(planned->target))) == 0) {
        return Refuse(Code::kCorrupt, what + "is not an earlier entry of the archive");
      }
      // cpio keeps a linked file's content with its last name, pax may with any: the receiver
      // takes a hardlink as a name only, so that content would be lost.
      if (archive_entry_size(entry) > 0) {
        return Refuse(Code::kInvalidArgument,
                      "a hardlink that carries content (as cpio stores them) cannot be sent");
      }
      planned->kind = Kind::kHardlink;
      return Status::Ok();
    }

    switch (archive_entry_filetype(entry)) {
      case AE_IFREG: {
        if (!archive_entry_size_is_set(entry) || archive_entry_size(entry) < 0) {
          return Refuse(Code::kCorrupt, "its size is not in the archive's header");
        }
        if (!DataExtents(entry, archive_entry_size(entry), &planned->extents)) {
          return Refuse(Code::kCorrupt, "invalid sparse map");
        }
        planned->kind = Kind::kFile;
        return Status::Ok();
      }
      case AE_IFDIR:
      case AE_IFLNK:
      case AE_IFIFO:
      case AE_IFCHR:
      case AE_IFBLK:
        planned->kind = Kind::kOther;
        return Status::Ok();
      case AE_IFSOCK:  // a live endpoint, not data; tar skips it too
        return Status::Ok();
      default:
        return Refuse(Code::kCorrupt, "unsupported file type");
    }
  }

  // Checks a name from the archive (an entry's path, or a hardlink's target) and sets *stripped
  // to it without its first strip_ components, as tar counts them ("." is one, runs of '/' are
  // one separator), and without "." components. *stripped is empty when nothing is left.
  Status StripName(std::string_view raw, const std::string& what, std::string* stripped) const {
    stripped->clear();
    if (raw.empty()) return Status::Ok();
    if (raw.front() == '/') return Refuse(Code::kUnsafe, what + "is absolute");
    // IsSafeRelativePath refuses ".." components and names that name nothing ("./"); only the
    // first kind is unsafe, the second is skipped like any name stripped to nothing.
    if (!IsSafeRelativePath(raw) && !NormalizeEntryPath(raw).empty()) {
      return Refuse(Code::kUnsafe, what + "escapes the destination");
    }
    std::string_view trimmed = raw.substr(0, raw.find_last_not_of('/') + 1);
    if (trimmed.find("//") != std::string_view::npos) {
      return Refuse(Code::kCorrupt, what + "has an empty component");
    }
    size_t start = 0;
    for (int i = 0; i < strip_; ++i) {
      size_t slash = trimmed.find('/', start);
      if (slash == std::string_view::npos) return Status::Ok();
      start = slash + 1;
    }
    *stripped = NormalizeEntryPath(trimmed.substr(start));
    return Status::Ok();
  }

  void AddTopName(const std::string& path) {
    std::string first(FirstComponent(path));
    if (seen_top_names_.insert(first).second) top_names_.push_back(std::move(first));
  }

  const std::string path_;
  const int strip_;
  const std::string prefix_;  // "archive PATH"
  ArchiveReadPtr reader_;
  std::string shown_;  // the current (or last) entry's name in the archive
  std::vector<std::string> top_names_;
  std::unordered_set<std::string> seen_top_names_;
};

// Feeds a regular file's logical content, in order, to the pax writer and the hasher, following
// the entry's sparse map: each write stays within one data extent or one hole (the pax writer of
// libarchive 3.6 mishandles a write across a boundary), bytes in a hole are consumed by the
// writer without being stored, and a trailing hole is only digested.
class ContentWriter {
 public:
  ContentWriter(PaxWriter* writer, ContentDigest* hasher, std::atomic<uint64_t>* progress,
                const std::vector<Extent>& extents, int64_t size, const std::string& shown)
      : writer_(writer),
        hasher_(hasher),
        progress_(progress),
        extents_(extents),
        size_(size),
        shown_(shown) {}

  int64_t position() const { return position_; }

  // The next len bytes of content: data, or zeros when data is null (a gap between the blocks
  // libarchive returns reads as zeros, as archive_read_data() fills it). Fails when non-zero
  // bytes fall into a hole of the map, which the stream could not carry.
  Status Add(const char* data, int64_t len) {
    while (len > 0) {
      while (next_ < extents_.size() &&
             extents_[next_].offset + extents_[next_].length <= position_) {
        ++next_;
      }
      const bool in_data = next_ < extents_.size() && extents_[next_].offset <= position_;
      int64_t end = size_;
      if (in_data) {
        end = extents_[next_].offset + extents_[next_].length;
      } else if (next_ < extents_.size()) {
        end = extents_[next_].offset;
      }
      const int64_t piece = std::min(len, end - position_);
      if (piece <= 0) return Status(Code::kCorrupt, shown_ + ": content beyond its size");
      if (!in_data && data != nullptr && !AllZero(data, static_cast<size_t>(piece))) {
        return Status(Code::kCorrupt, shown_ + ": data inside a hole of its sparse map");
      }
      if (data != nullptr) {
        hasher_->Update(data, static_cast<size_t>(piece));
      } else {
        hasher_->UpdateZeros(static_cast<uint64_t>(piece));
      }
      // Past the map's last extent the writer takes nothing more: the size says the rest.
      if (next_ < extents_.size()) XFER_RETURN_IF_ERROR(Write(data, piece));
      if (progress_ != nullptr) {
        progress_->fetch_add(static_cast<uint64_t>(piece), std::memory_order_relaxed);
      }
      if (data != nullptr) data += piece;
      position_ += piece;
      len -= piece;
    }
    return Status::Ok();
  }

 private:
  static bool AllZero(const char* data, size_t len) {
    return std::all_of(data, data + len, [](char c) { return c == 0; });
  }

  Status Write(const char* data, int64_t len) {
    if (data != nullptr) return writer_->WriteData(data, static_cast<size_t>(len), shown_);
    return writer_->WriteHole(static_cast<uint64_t>(len), shown_);
  }

  PaxWriter* writer_;
  ContentDigest* hasher_;
  std::atomic<uint64_t>* progress_;
  const std::vector<Extent>& extents_;
  const int64_t size_;
  const std::string& shown_;
  size_t next_ = 0;  // the first extent not wholly behind position_
  int64_t position_ = 0;
};

class ArchiveFileCopier {
 public:
  ArchiveFileCopier(const std::string& path, int strip_components, const CancelToken* cancel,
                    Manifest* manifest, ArchiveCounters* counters)
      : reader_(path, strip_components),
        cancel_(cancel),
        manifest_(manifest),
        counters_(counters) {}

  Status Run(ByteSink* sink) {
    XFER_RETURN_IF_ERROR(reader_.Open());
    XFER_RETURN_IF_ERROR(writer_.Open(sink));
    for (;;) {
      if (Cancelled()) return Status(Code::kCancelled, "cancelled");
      struct archive_entry* entry = nullptr;
      PlannedEntry planned;
      XFER_RETURN_IF_ERROR(reader_.Next(&entry, &planned));
      if (entry == nullptr) break;
      if (planned.kind == Kind::kSkipped) continue;
      const std::string shown = EscapeForMessage(planned.path);
      PrepareEntry(entry, planned);
      XFER_RETURN_IF_ERROR(writer_.WriteHeader(entry, shown));
      if (planned.kind == Kind::kFile) XFER_RETURN_IF_ERROR(CopyContent(entry, planned, shown));
      XFER_RETURN_IF_ERROR(writer_.FinishEntry(shown));
      if (counters_ != nullptr) counters_->entries_written.fetch_add(1, std::memory_order_relaxed);
    }
    XFER_RETURN_IF_ERROR(reader_.CheckNotEmpty());
    return writer_.Close();
  }

 private:
  bool Cancelled() const { return cancel_ != nullptr && cancel_->IsCancelled(); }

  // Makes the reader's entry what the stream carries: the stripped names, no content for what
  // has none, and only what the receiver restores (see archive_source.cc: numeric owners, no
  // atime/ctime/birthtime, no file flags).
  static void PrepareEntry(struct archive_entry* entry, const PlannedEntry& planned) {
    archive_entry_copy_pathname(entry, planned.path.c_str());
    if (planned.kind == Kind::kHardlink) {
      archive_entry_copy_hardlink(entry, planned.target.c_str());
      // The tar reader leaves a hardlink without a type (it is its target's); give it one.
      if (archive_entry_filetype(entry) == 0) archive_entry_set_filetype(entry, AE_IFREG);
    }
    if (planned.kind != Kind::kFile) archive_entry_set_size(entry, 0);
    DropUnrestoredTimes(entry);
    archive_entry_set_uname(entry, nullptr);
    archive_entry_set_gname(entry, nullptr);
    archive_entry_set_fflags(entry, 0, 0);
    // The pax writer would turn Mac metadata into an extra "._name" entry.
    archive_entry_copy_mac_metadata(entry, nullptr, 0);
  }

  Status CopyContent(struct archive_entry* entry, const PlannedEntry& planned,
                     const std::string& shown) {
    const int64_t size = archive_entry_size(entry);
    hasher_.Reset();
    // The pax writer emits a sparse file's map with the first data write: a file that is all
    // hole gets no other write.
    XFER_RETURN_IF_ERROR(writer_.WriteData("", 0, shown));
    ContentWriter content(&writer_, &hasher_,
                          counters_ != nullptr ? &counters_->content_bytes_read : nullptr,
                          planned.extents, size, shown);
    for (;;) {
      if (Cancelled()) return Status(Code::kCancelled, "cancelled");
      const void* block = nullptr;
      size_t len = 0;
      la_int64_t offset = 0;
      int r = archive_read_data_block(reader_.get(), &block, &len, &offset);
      if (r == ARCHIVE_EOF) break;
      // ARCHIVE_WARN included: the zip reader says so of a CRC that does not match.
      if (r != ARCHIVE_OK) return reader_.Failure("entry '" + reader_.shown() + "': ");
      if (offset < content.position() || offset > size ||
          static_cast<uint64_t>(len) > static_cast<uint64_t>(size - offset)) {
        return reader_.Refuse(Code::kCorrupt, "content does not fit the size in its header");
      }
      XFER_RETURN_IF_ERROR(content.Add(nullptr, offset - content.position()));
      XFER_RETURN_IF_ERROR(content.Add(static_cast<const char*>(block), static_cast<int64_t>(len)));
    }
    XFER_RETURN_IF_ERROR(content.Add(nullptr, size - content.position()));
    if (manifest_ != nullptr) {
      manifest_->push_back({planned.path, static_cast<uint64_t>(size), hasher_.Finish()});
    }
    return Status::Ok();
  }

  ArchiveFileReader reader_;
  const CancelToken* cancel_;
  Manifest* manifest_;
  ArchiveCounters* counters_;
  PaxWriter writer_;
  ContentDigest hasher_;
};

}  // namespace

Status SummarizeArchiveFile(const std::string& path, int strip_components, SourceSummary* out) {
  ArchiveFileReader reader(path, strip_components);
  XFER_RETURN_IF_ERROR(reader.Open());
  SourceSummary summary;
  for (;;) {
    struct archive_entry* entry = nullptr;
    PlannedEntry planned;
    XFER_RETURN_IF_ERROR(reader.Next(&entry, &planned));
    if (entry == nullptr) break;
    if (planned.kind == Kind::kSkipped) continue;
    ++summary.entries;
    if (planned.kind != Kind::kFile) continue;
    ++summary.files;
    summary.content_bytes += static_cast<uint64_t>(archive_entry_size(entry));
    summary.allocated_bytes += AllocatedEstimate(planned.extents);
  }
  XFER_RETURN_IF_ERROR(reader.CheckNotEmpty());
  summary.top_names = reader.top_names();
  *out = std::move(summary);
  return Status::Ok();
}

Status CopyArchiveFile(const std::string& path, int strip_components, ByteSink* sink,
                       const CancelToken* cancel, Manifest* manifest, ArchiveCounters* counters) {
  ArchiveFileCopier copier(path, strip_components, cancel, manifest, counters);
  return copier.Run(sink);
}

}  // namespace xfer
