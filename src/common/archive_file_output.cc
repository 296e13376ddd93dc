// ArchiveFileOutput: a received pax stream, stored as a .tar or .tar.zst file.
//
// One pass, a tee: libarchive's tar reader pulls the stream through our read callback, which
// first writes each piece to the file (through zstd's multithreaded streaming compressor for
// .tar.zst) and then hands the same bytes to libarchive. The reader only parses: entry paths are
// checked as the extractor checks them, and regular files' content is digested as the extractor
// digests what it writes (gaps of a sparse map and a trailing hole as zeros), so the manifest
// compares with the sender's as usual. Nothing is extracted.
#include "archive_file_output.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string_view>
#include <utility>

#include "archive_entry_data.h"
#include "archive_handles.h"
#include "archive_metadata_digest.h"
#include "content_digest.h"
#include "entry_marks.h"
#include "entry_path.h"
#include "symlink_guard.h"

namespace xfer {

namespace {

// Output is gathered into writes of this size (and zstd's output into a buffer of it).
constexpr size_t kWriteBuffer = size_t{1} << 20;

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// The process's umask, without changing it (umask(2) can only be read by setting it, which would
// race with other threads creating files). Linux reports it in /proc/self/status since 4.7.
mode_t CurrentUmask() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Umask:", 0) == 0) {
      return static_cast<mode_t>(strtoul(line.c_str() + 6, nullptr, 8) & 0777);
    }
  }
  return 022;
}

Status WriteAll(int fd, const uint8_t* data, size_t len, const std::string& shown) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "writing " + shown);
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

bool IsSupportedType(mode_t type) {
  return type == AE_IFREG || type == AE_IFDIR || type == AE_IFLNK || type == AE_IFIFO ||
         type == AE_IFCHR || type == AE_IFBLK;
}

}  // namespace

// Where the stream's bytes go: the file, as they are or through zstd, in large writes.
class ArchiveFileSink {
 public:
  ArchiveFileSink(int fd, std::string shown) : fd_(fd), shown_(std::move(shown)) {}
  ~ArchiveFileSink() { ZSTD_freeCCtx(cctx_); }
  ArchiveFileSink(const ArchiveFileSink&) = delete;
  ArchiveFileSink& operator=(const ArchiveFileSink&) = delete;

  // One frame with a content checksum (so `zstd -t` checks the data), compressed by `workers`
  // threads besides the caller's.
  Status StartZstd(int level, int workers) {
    cctx_ = ZSTD_createCCtx();
    if (cctx_ == nullptr) return Status(Code::kIoError, "writing " + shown_ + ": out of memory");
    size_t r = ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level);
    if (!ZSTD_isError(r)) r = ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
    if (ZSTD_isError(r)) return ZstdFailure(r);
    // A libzstd built without threads refuses workers; it then compresses on this thread.
    (void)ZSTD_CCtx_setParameter(cctx_, ZSTD_c_nbWorkers, workers);
    return Status::Ok();
  }

  Status Write(const void* data, size_t len) {
    if (cctx_ != nullptr) return Compress(data, len, ZSTD_e_continue);
    const auto* bytes = static_cast<const uint8_t*>(data);
    if (used_ == 0 && len >= kWriteBuffer) return Put(bytes, len);  // a whole chunk: no copy
    while (len > 0) {
      if (buffer_.empty()) buffer_.resize(kWriteBuffer);
      size_t n = std::min(len, buffer_.size() - used_);
      std::memcpy(buffer_.data() + used_, bytes, n);
      used_ += n;
      bytes += n;
      len -= n;
      if (used_ == buffer_.size()) XFER_RETURN_IF_ERROR(Flush());
    }
    return Status::Ok();
  }

  // Ends the zstd frame and writes what is buffered.
  Status Finish() {
    if (cctx_ != nullptr) XFER_RETURN_IF_ERROR(Compress(nullptr, 0, ZSTD_e_end));
    return Flush();
  }

  uint64_t bytes() const { return written_ + used_; }

 private:
  // With ZSTD_e_end, until the frame is complete; otherwise until zstd took all the input. With
  // workers, a call that takes no input waits for a job's output, so this loop does not spin.
  Status Compress(const void* data, size_t len, ZSTD_EndDirective mode) {
    if (buffer_.empty()) buffer_.resize(kWriteBuffer);
    ZSTD_inBuffer in{data, len, 0};
    for (;;) {
      ZSTD_outBuffer out{buffer_.data(), buffer_.size(), used_};
      size_t remaining = ZSTD_compressStream2(cctx_, &out, &in, mode);
      if (ZSTD_isError(remaining)) return ZstdFailure(remaining);
      used_ = out.pos;
      if (used_ == buffer_.size()) XFER_RETURN_IF_ERROR(Flush());
      if (mode == ZSTD_e_end ? remaining == 0 : in.pos == in.size) return Status::Ok();
    }
  }

  Status Flush() {
    if (used_ == 0) return Status::Ok();
    XFER_RETURN_IF_ERROR(Put(buffer_.data(), used_));
    used_ = 0;
    return Status::Ok();
  }

  Status Put(const uint8_t* data, size_t len) {
    XFER_RETURN_IF_ERROR(WriteAll(fd_, data, len, shown_));
    written_ += len;
    return Status::Ok();
  }

  Status ZstdFailure(size_t code) const {
    return Status(Code::kIoError, "writing " + shown_ + ": zstd: " + ZSTD_getErrorName(code));
  }

  int fd_;
  std::string shown_;
  ZSTD_CCtx* cctx_ = nullptr;
  std::vector<uint8_t> buffer_;
  size_t used_ = 0;
  uint64_t written_ = 0;
};

namespace {

// libarchive's read callback: each piece of the stream goes to the file, then to libarchive
// (the same pointer, no copy). Keeps the source's and the file's own errors.
struct TeeReader {
  ByteSource* source;
  ArchiveFileSink* sink;
  const CancelToken* cancel;
  Status status;
  bool ended = false;  // the source said the stream ended

  Status Pull(const void** data, size_t* len) {
    if (cancel != nullptr && cancel->IsCancelled()) return Status(Code::kCancelled, "cancelled");
    XFER_RETURN_IF_ERROR(source->Next(data, len));
    ended = *len == 0;
    if (!ended) XFER_RETURN_IF_ERROR(sink->Write(*data, *len));
    return Status::Ok();
  }

  static la_ssize_t Read(struct archive*, void* self, const void** buffer) {
    auto* reader = static_cast<TeeReader*>(self);
    if (reader->ended) return 0;
    size_t len = 0;
    reader->status = reader->Pull(buffer, &len);
    if (!reader->status.ok()) return -1;
    return static_cast<la_ssize_t>(len);
  }
};

// Reads the stream through the tee, entry by entry, as ExtractArchive would, minus the disk.
class StreamParser {
 public:
  StreamParser(TeeReader* tee, const std::vector<std::string>& top_names, WrittenFiles* written,
               ExtractCounters* counters)
      : tee_(tee), top_names_(top_names), written_(written), counters_(counters) {}

  Status Run() {
    for (const std::string& name : top_names_) {
      if (!IsValidTopName(name)) {
        return Status(Code::kInvalidArgument,
                      "invalid top-level name '" + EscapeForMessage(name) + "'");
      }
    }
    reader_.reset(archive_read_new());
    if (!reader_) return Status(Code::kIoError, "creating the archive reader: out of memory");
    archive_read_support_format_tar(reader_.get());  // pax is tar; no filters
    if (archive_read_open(reader_.get(), tee_, nullptr, &TeeReader::Read, nullptr) != ARCHIVE_OK) {
      return ReadFailure("reading the archive");
    }
    for (;;) {
      if (Cancelled()) return Status(Code::kCancelled, "cancelled");
      struct archive_entry* entry = nullptr;
      int r = archive_read_next_header(reader_.get(), &entry);
      if (r == ARCHIVE_EOF) {
        // As in the extractor: EOF also comes when the bytes stop between two entries; reading a
        // real end marker never needs the source's end.
        if (tee_->ended) {
          return Status(Code::kProtocol,
                        "reading the archive: it ends without an end-of-archive marker");
        }
        return Status::Ok();
      }
      if (r != ARCHIVE_OK) {
        return ReadFailure(last_entry_.empty() ? std::string("reading the archive")
                                               : "reading the archive after '" + last_entry_ + "'");
      }
      XFER_RETURN_IF_ERROR(ParseEntry(entry));
    }
  }

 private:
  Status ParseEntry(struct archive_entry* entry) {
    // Marks as the extractor takes them (entry_marks.h); the file keeps them, as the stream's
    // bytes, for --from-archive to take again.
    EntryMarks marks;
    TakeEntryMarks(entry, &marks);
    const char* raw_path = archive_entry_pathname(entry);
    if (raw_path == nullptr) return Status(Code::kProtocol, "archive entry without a path");
    std::string rel;
    XFER_RETURN_IF_ERROR(CheckEntryPath(raw_path, top_names_, &rel));
    const std::string shown = EscapeForMessage(rel);
    last_entry_ = shown;
    const char* raw_target = archive_entry_hardlink(entry);
    // A hardlink entry has no type of its own (the tar reader leaves it 0): it is its target's.
    if (raw_target == nullptr && !IsSupportedType(archive_entry_filetype(entry))) {
      return Status(Code::kProtocol, "refusing entry '" + shown + "': unsupported file type");
    }
    // The extractor takes a resumed entry's held prefix from the staging directory; an archive
    // file has none to take it from (the caller does not offer held files with --to-archive).
    if (marks.resume) {
      return Status(Code::kProtocol, "refusing entry '" + shown +
                                         "': it resumes a file of an interrupted transfer, "
                                         "which an archive file cannot hold");
    }
    XFER_RETURN_IF_ERROR(symlinks_.CheckPath(rel, shown));
    symlinks_.Replaced(rel);  // whatever was at rel is replaced
    std::string target;
    if (raw_target != nullptr) {
      XFER_RETURN_IF_ERROR(CheckHardlinkTarget(rel, raw_target, top_names_, &target));
      XFER_RETURN_IF_ERROR(symlinks_.CheckPath(target, shown));
    }
    // A hardlink adds a name, never content (the extractor drops data in a hardlink entry): no
    // record. Its data, if any, is still in the file, as received.
    if (archive_entry_filetype(entry) == AE_IFREG && raw_target == nullptr) {
      ManifestRecord record{rel, 0, {}};
      XFER_RETURN_IF_ERROR(DigestData(entry, &record));
      if (written_ != nullptr) written_->push_back(WrittenOf(record));
    }
    symlinks_.Written(rel, archive_entry_filetype(entry) == AE_IFLNK, target);
    if (counters_ != nullptr) counters_->entries_written.fetch_add(1, std::memory_order_relaxed);
    return Status::Ok();
  }

  // As the extractor's CopyData: data blocks at their offsets, the gaps between them and the
  // trailing hole digested as zeros; progress counts the logical bytes.
  Status DigestData(struct archive_entry* entry, ManifestRecord* record) {
    const std::string shown = EscapeForMessage(record->path);
    const int64_t size = archive_entry_size(entry);
    int64_t position = 0;
    hasher_.Reset();
    XFER_RETURN_IF_ERROR(ReadEntryData(
        reader_.get(), size, shown, &hasher_, &position, [this] { return Cancelled(); },
        [this](const std::string& context) { return ReadFailure(context); },
        [this](const DataBlock& block) {
          AddProgress(block.advanced);
          return Status::Ok();
        }));
    hasher_.UpdateZeros(static_cast<uint64_t>(size - position));
    AddProgress(size - position);
    record->size = static_cast<uint64_t>(size);
    record->digest = hasher_.Finish();
    return Status::Ok();
  }

  void AddProgress(int64_t bytes) {
    if (counters_ != nullptr && bytes > 0) {
      counters_->content_bytes_written.fetch_add(static_cast<uint64_t>(bytes),
                                                 std::memory_order_relaxed);
    }
  }

  bool Cancelled() const { return tee_->cancel != nullptr && tee_->cancel->IsCancelled(); }

  // The source's or the file's own failure explains more than libarchive's reaction to it.
  Status ReadFailure(const std::string& context) const {
    if (!tee_->status.ok()) return tee_->status;
    const char* message = archive_error_string(reader_.get());
    return Status(Code::kProtocol, context + ": " + (message ? message : "malformed archive"));
  }

  TeeReader* tee_;
  const std::vector<std::string>& top_names_;
  WrittenFiles* written_;
  ExtractCounters* counters_;
  std::string last_entry_;
  SymlinkGuard symlinks_;  // symlinks the stream made (and hardlinks to them)
  ContentDigest hasher_;
  ArchiveReadPtr reader_;
};

}  // namespace

ArchiveFileOutput::ArchiveFileOutput(std::string path, bool overwrite, bool compress, UniqueFd dir,
                                     std::string temp_name, UniqueFd file)
    : path_(std::move(path)),
      overwrite_(overwrite),
      compress_(compress),
      dir_(std::move(dir)),
      temp_name_(std::move(temp_name)),
      file_(std::move(file)) {
  base_name_ = path_.substr(path_.rfind('/') + 1);  // npos + 1 == 0: no slash, all of it
  temp_path_ = path_ + temp_name_.substr(base_name_.size());
  sink_ = std::make_unique<ArchiveFileSink>(file_.get(), temp_path_);
}

Status ArchiveFileOutput::Create(const std::string& path, bool overwrite,
                                 std::unique_ptr<ArchiveFileOutput>* out) {
  const bool compress = EndsWith(path, ".tar.zst") || EndsWith(path, ".tzst");
  if (!compress && !EndsWith(path, ".tar")) {
    return Status(Code::kInvalidArgument,
                  "the archive file " + path + " must end in .tar, .tar.zst or .tzst");
  }
  const size_t slash = path.rfind('/');
  const std::string dir_path = slash == std::string::npos ? "."
                               : slash == 0               ? "/"
                                                          : path.substr(0, slash);
  const std::string base = path.substr(slash == std::string::npos ? 0 : slash + 1);
  if (base == ".tar" || base == ".tzst" || base == ".tar.zst") {
    return Status(Code::kInvalidArgument, "the archive file " + path + " needs a name");
  }
  UniqueFd dir(open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return Status::FromErrno(errno, "creating " + path + ": opening " + dir_path);
  struct stat st;
  if (fstatat(dir.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(st.st_mode)) {
      return Status(Code::kExists, "destination " + path + " is a directory");
    }
    if (!overwrite) {
      return Status(Code::kExists, "destination " + path + " already exists");
    }
  } else if (errno != ENOENT) {
    return Status::FromErrno(errno, "creating " + path);
  }
  std::string random;
  XFER_RETURN_IF_ERROR(RandomHex(8, &random));
  std::string temp_name = base + ".xfer-partial-" + random;
  UniqueFd file(openat(dir.get(), temp_name.c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!file.valid()) {
    return Status::FromErrno(errno, "creating " + path + ".xfer-partial-" + random);
  }
  out->reset(new ArchiveFileOutput(path, overwrite, compress, std::move(dir), std::move(temp_name),
                                   std::move(file)));
  return Status::Ok();
}

ArchiveFileOutput::~ArchiveFileOutput() {
  sink_.reset();  // joins zstd's workers before the file goes
  if (!committed_ && dir_.valid()) unlinkat(dir_.get(), temp_name_.c_str(), 0);
}

void ArchiveFileOutput::SetCompression(int level, int workers) {
  zstd_level_ = level;
  zstd_workers_ = workers;
}

uint64_t ArchiveFileOutput::file_bytes() const { return sink_ ? sink_->bytes() : 0; }

Status ArchiveFileOutput::Store(ByteSource* stream, const std::vector<std::string>& top_names,
                                const CancelToken* cancel, WrittenFiles* written,
                                ExtractCounters* counters) {
  if (stored_) return Status(Code::kInvalidArgument, "storing into " + temp_path_ + " twice");
  stored_ = true;
  if (compress_) {
    int workers =
        zstd_workers_ > 0 ? zstd_workers_ : static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
    XFER_RETURN_IF_ERROR(sink_->StartZstd(zstd_level_, workers > 0 ? workers : 1));
  }
  TeeReader tee{stream, sink_.get(), cancel, Status::Ok()};
  XFER_RETURN_IF_ERROR(StreamParser(&tee, top_names, written, counters).Run());
  // What follows the end marker (padding, if any) belongs to the stream: the file is all of it.
  while (!tee.ended) {
    const void* data = nullptr;
    size_t len = 0;
    XFER_RETURN_IF_ERROR(tee.Pull(&data, &len));
  }
  XFER_RETURN_IF_ERROR(sink_->Finish());
  complete_ = true;
  return Status::Ok();
}

Status ArchiveFileOutput::Commit(bool sync) {
  if (!complete_ || committed_) {
    return Status(Code::kInvalidArgument, "committing " + path_ + ": nothing complete to commit");
  }
  complete_ = false;  // one attempt: a failure below leaves the temporary file to the destructor
  const std::string shown = "writing " + temp_path_;
  // The mode a file tar creates would have; only now, when the content is complete.
  if (fchmod(file_.get(), 0644 & ~CurrentUmask()) != 0) return Status::FromErrno(errno, shown);
  if (sync && fsync(file_.get()) != 0) return Status::FromErrno(errno, shown);
  // close() may be where a network filesystem reports a failed write.
  if (close(file_.release()) != 0) return Status::FromErrno(errno, shown);
  const char* from = temp_name_.c_str();
  const char* to = base_name_.c_str();
  int r = overwrite_ ? renameat(dir_.get(), from, dir_.get(), to)
                     : renameat2(dir_.get(), from, dir_.get(), to, RENAME_NOREPLACE);
  if (r != 0 && !overwrite_ && errno == EINVAL) {
    // A filesystem without RENAME_NOREPLACE: link() also refuses an existing name.
    r = linkat(dir_.get(), from, dir_.get(), to, 0);
    if (r == 0) unlinkat(dir_.get(), from, 0);
  }
  if (r != 0) {
    if (errno == EEXIST) {
      return Status(Code::kExists, "destination " + path_ + " already exists (created meanwhile)");
    }
    return Status::FromErrno(errno, "committing " + path_);
  }
  committed_ = true;
  if (sync && fsync(dir_.get()) != 0) {
    return Status::FromErrno(errno, "committing " + path_ + ": syncing its directory");
  }
  return Status::Ok();
}

}  // namespace xfer
