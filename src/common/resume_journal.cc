#include "resume_journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <utility>

#include "byte_codec.h"
#include "xxhash_dispatch.h"

namespace xfer {

namespace {

constexpr std::string_view kMagic = "XFERJNL2";
constexpr size_t kLengthSize = 4;
constexpr size_t kChecksumSize = 8;
constexpr size_t kReadChunk = 64 << 10;

enum RecordType : uint8_t { kNames = 1, kHeld = 2, kInvalidate = 3 };

// ---- Encoding ----

uint64_t Checksum(std::string_view type_and_payload) {
  return XXH3_64bits(type_and_payload.data(), type_and_payload.size());
}

void AddRecord(RecordType type, std::string_view payload, ByteWriter* w) {
  w->U32(static_cast<uint32_t>(payload.size()));
  size_t start = w->str().size();
  w->U8(type);
  w->str().append(payload);
  w->U64(Checksum(std::string_view(w->str()).substr(start)));
}

std::string EncodeNames(const std::vector<std::string>& names) {
  ByteWriter w;
  w.U32(static_cast<uint32_t>(names.size()));
  for (const std::string& name : names) w.Bytes(name);
  return std::move(w.str());
}

Status CheckPath(const std::string& path) {
  if (path.empty() || path.size() > kMaxJournalPath) {
    return Status(Code::kInvalidArgument,
                  "cannot journal a path of " + std::to_string(path.size()) + " bytes");
  }
  return Status::Ok();
}

Status CheckRecordable(const HeldFile& file) {
  XFER_RETURN_IF_ERROR(CheckPath(file.path));
  if (file.have > file.size) {
    return Status(Code::kInvalidArgument, "cannot journal " + file.path + ": holds " +
                                              std::to_string(file.have) + " bytes of " +
                                              std::to_string(file.size));
  }
  return Status::Ok();
}

std::string EncodeHeld(const HeldFile& file) {
  ByteWriter w;
  w.Bytes(file.path);
  for (uint64_t v :
       {file.size, file.have, file.meta.high, file.meta.low, file.content.high, file.content.low}) {
    w.U64(v);
  }
  return std::move(w.str());
}

// ---- Decoding: false for a payload that does not parse ----

bool DecodeNames(std::string_view payload, std::vector<std::string>* names) {
  ByteReader r(payload);
  uint32_t count = 0;
  r.U32(&count);
  names->clear();
  // Each name takes at least its 4-byte length: a bogus count stops at the payload's end.
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    std::string_view name;
    if (r.Bytes(&name, kMaxJournalPath)) names->emplace_back(name);
  }
  return r.ok() && r.remaining() == 0;
}

bool DecodeHeld(std::string_view payload, HeldFile* file) {
  ByteReader r(payload);
  std::string_view path;
  r.Bytes(&path, kMaxJournalPath);
  for (uint64_t* v : {&file->size, &file->have, &file->meta.high, &file->meta.low,
                      &file->content.high, &file->content.low}) {
    r.U64(v);
  }
  file->path = path;
  return r.ok() && r.remaining() == 0 && !path.empty() && file->have <= file->size;
}

bool DecodePath(std::string_view payload, std::string* path) {
  ByteReader r(payload);
  std::string_view view;
  r.Bytes(&view, kMaxJournalPath);
  *path = view;
  return r.ok() && r.remaining() == 0 && !view.empty();
}

// Applies one held-file or invalidate record to *held; false when it is neither.
bool ApplyRecord(uint8_t type, std::string_view payload, HeldFiles* held) {
  if (type == kHeld) {
    HeldFile file;
    if (!DecodeHeld(payload, &file)) return false;
    held->insert_or_assign(std::string(file.path), std::move(file));
    return true;
  }
  std::string path;
  if (type != kInvalidate || !DecodePath(payload, &path)) return false;
  held->erase(path);
  return true;
}

// ---- Reading ----

// Reads a journal front to back through a buffer, so memory stays bounded by the largest record
// allowed whatever the journal's length or its length fields say.
class RecordReader {
 public:
  RecordReader(int fd, const std::string& path) : fd_(fd), path_(path) {}

  // Reads the magic and the names header.
  Status ReadHeader(std::vector<std::string>* names) {
    bool enough = false;
    XFER_RETURN_IF_ERROR(Fill(kMagic.size(), &enough));
    if (!enough || std::string_view(buf_).substr(pos_, kMagic.size()) != kMagic) {
      return Status(Code::kCorrupt, path_ + " is not a resume journal");
    }
    Consume(kMagic.size());
    bool found = false;
    uint8_t type = 0;
    std::string_view payload;
    XFER_RETURN_IF_ERROR(Next(&found, &type, &payload));
    if (!found || type != kNames || !DecodeNames(payload, names)) {
      return Status(Code::kCorrupt, "resume journal " + path_ + " has no intact header");
    }
    return Status::Ok();
  }

  // Sets *found to whether one more intact record follows (length within bounds, all its bytes
  // there, checksum right) and if so reads it; *payload is valid until the next call.
  Status Next(bool* found, uint8_t* type, std::string_view* payload) {
    *found = false;
    bool enough = false;
    XFER_RETURN_IF_ERROR(Fill(kLengthSize, &enough));
    if (!enough) return Status::Ok();
    uint32_t length = 0;
    ByteReader(std::string_view(buf_).substr(pos_)).U32(&length);
    if (length > kMaxJournalPayload) return Status::Ok();
    const size_t record_size = kLengthSize + 1 + length + kChecksumSize;
    XFER_RETURN_IF_ERROR(Fill(record_size, &enough));
    if (!enough) return Status::Ok();
    std::string_view body = std::string_view(buf_).substr(pos_ + kLengthSize, 1 + length);
    uint64_t checksum = 0;
    ByteReader(std::string_view(buf_).substr(pos_ + kLengthSize + 1 + length)).U64(&checksum);
    if (Checksum(body) != checksum) return Status::Ok();
    *type = static_cast<uint8_t>(body[0]);
    *payload = body.substr(1);
    *found = true;
    Consume(record_size);
    return Status::Ok();
  }

  // The file offset just past the last record read.
  uint64_t end() const { return end_; }

 private:
  void Consume(size_t n) {
    pos_ += n;
    end_ += n;
  }

  // Reads until `want` unconsumed bytes are buffered; *enough is false when the file ends first.
  Status Fill(size_t want, bool* enough) {
    *enough = true;
    if (buf_.size() - pos_ >= want) return Status::Ok();
    buf_.erase(0, pos_);
    pos_ = 0;
    while (buf_.size() < want) {
      size_t old = buf_.size();
      size_t chunk = std::max(want - old, kReadChunk);
      buf_.resize(old + chunk);
      ssize_t n = read(fd_, buf_.data() + old, chunk);
      int err = errno;
      buf_.resize(old + static_cast<size_t>(std::max<ssize_t>(n, 0)));
      if (n < 0 && err != EINTR) return Status::FromErrno(err, "reading " + path_);
      if (n == 0) break;
    }
    *enough = buf_.size() >= want;
    return Status::Ok();
  }

  int fd_;
  const std::string& path_;
  std::string buf_;
  size_t pos_ = 0;    // the first unconsumed byte of buf_
  uint64_t end_ = 0;  // its offset in the file
};

// O_NOFOLLOW and a regular file only: whatever sits at a journal's name in DEST is not trusted.
// O_NONBLOCK: a fifo there must not hang the open; regular files ignore the flag. A journal that
// another user owns or may write is someone else's (kUnsafe): it must not steer what we adopt.
Status OpenRegular(const std::string& path, int flags, UniqueFd* out) {
  UniqueFd fd(open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd.valid()) return Status::FromErrno(errno, "opening resume journal " + path);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, "checking " + path);
  if (!S_ISREG(st.st_mode)) return Status(Code::kCorrupt, path + " is not a resume journal");
  if (st.st_uid != geteuid()) {
    return Status(Code::kUnsafe, "resume journal " + path + " is owned by uid " +
                                     std::to_string(st.st_uid) + ", not by this receiver's uid " +
                                     std::to_string(geteuid()));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return Status(Code::kUnsafe, "resume journal " + path + " is writable by others");
  }
  *out = std::move(fd);
  return Status::Ok();
}

Status Lock(int fd, const std::string& path) {
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) return Status::Ok();
  if (errno == EWOULDBLOCK) {
    return Status(Code::kExists, "resume journal " + path + " is in use by another receiver");
  }
  return Status::FromErrno(errno, "locking " + path);
}

// A receiver that removes a journal holds its lock until after the unlink, so having the lock
// proves nothing unless `path` still names the file locked.
Status CheckStillThere(int fd, const std::string& path) {
  struct stat locked, now;
  if (fstat(fd, &locked) != 0) return Status::FromErrno(errno, "checking " + path);
  bool same = stat(path.c_str(), &now) == 0;
  if (!same && errno != ENOENT) return Status::FromErrno(errno, "checking " + path);
  same = same && now.st_dev == locked.st_dev && now.st_ino == locked.st_ino;
  if (!same) {
    return Status(Code::kExists, "resume journal " + path + " was removed by another receiver");
  }
  return Status::Ok();
}

}  // namespace

Status ResumeJournal::Create(const std::string& path, const std::vector<std::string>& names,
                             ResumeJournal* out) {
  std::string header = EncodeNames(names);
  if (header.size() > kMaxJournalPayload) {
    return Status(Code::kInvalidArgument, "too many top-level names for resume journal " + path);
  }
  ResumeJournal journal;
  journal.fd_.reset(open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!journal.fd_.valid()) return Status::FromErrno(errno, "creating resume journal " + path);
  journal.path_ = path;
  ByteWriter w;
  w.str().append(kMagic);
  AddRecord(kNames, header, &w);
  // Locked before the header is written: another receiver looks only at journals with an intact
  // header, so it never takes the lock of one being created.
  Status status = Lock(journal.fd_.get(), path);
  if (status.ok()) status = journal.Append(w.str());
  if (!status.ok()) {
    unlink(path.c_str());
    return status;
  }
  *out = std::move(journal);
  return Status::Ok();
}

Status ResumeJournal::Open(const std::string& path, ResumeJournal* out,
                           std::vector<std::string>* names, HeldFiles* held) {
  ResumeJournal journal;
  XFER_RETURN_IF_ERROR(OpenRegular(path, O_RDWR | O_APPEND, &journal.fd_));
  journal.path_ = path;
  XFER_RETURN_IF_ERROR(Lock(journal.fd_.get(), path));
  XFER_RETURN_IF_ERROR(CheckStillThere(journal.fd_.get(), path));
  RecordReader reader(journal.fd_.get(), path);
  XFER_RETURN_IF_ERROR(reader.ReadHeader(names));
  held->clear();
  uint64_t good_end = reader.end();
  for (;;) {
    bool found = false;
    uint8_t type = 0;
    std::string_view payload;
    XFER_RETURN_IF_ERROR(reader.Next(&found, &type, &payload));
    if (!found || !ApplyRecord(type, payload, held)) break;
    good_end = reader.end();
  }
  // Records appended after a torn one would never be read. No sync needed: the next append's
  // fdatasync makes the new length durable, and without one a torn tail is merely cut again.
  if (ftruncate(journal.fd_.get(), static_cast<off_t>(good_end)) != 0) {
    return Status::FromErrno(errno, "cutting the torn tail off " + path);
  }
  *out = std::move(journal);
  return Status::Ok();
}

Status ResumeJournal::ReadNames(const std::string& path, std::vector<std::string>* names) {
  UniqueFd fd;
  XFER_RETURN_IF_ERROR(OpenRegular(path, O_RDONLY, &fd));
  return RecordReader(fd.get(), path).ReadHeader(names);
}

Status ResumeJournal::Record(const std::vector<HeldFile>& files) {
  ByteWriter w;
  for (const HeldFile& file : files) {
    XFER_RETURN_IF_ERROR(CheckRecordable(file));
    AddRecord(kHeld, EncodeHeld(file), &w);
  }
  return Append(w.str());
}

Status ResumeJournal::Invalidate(const std::string& path) {
  XFER_RETURN_IF_ERROR(CheckPath(path));
  ByteWriter payload;
  payload.Bytes(path);
  ByteWriter w;
  AddRecord(kInvalidate, payload.str(), &w);
  return Append(w.str());
}

Status ResumeJournal::Append(const std::string& bytes) {
  if (!fd_.valid()) return Status(Code::kInvalidArgument, "no resume journal is open");
  // After a failed append the file may end in a torn record, and Open stops reading there: a
  // later invalidation would be lost and the journal would vouch for a file being rewritten.
  if (failed_) {
    return Status(Code::kIoError, "resume journal " + path_ + " failed an earlier write");
  }
  // One write() to an O_APPEND file: a crash leaves at most one torn tail, cut off by Open.
  ssize_t n = write(fd_.get(), bytes.data(), bytes.size());
  Status status;
  if (n < 0) {
    status = Status::FromErrno(errno, "writing " + path_);
  } else if (static_cast<size_t>(n) != bytes.size()) {
    // Short: the disk filled up, most likely. Writing the rest says why (ENOSPC, EDQUOT); the
    // record stays torn either way.
    ssize_t rest = write(fd_.get(), bytes.data() + n, bytes.size() - static_cast<size_t>(n));
    status = rest < 0 ? Status::FromErrno(errno, "writing " + path_)
                      : Status(Code::kIoError, "writing " + path_ + ": short write");
  } else if (fdatasync(fd_.get()) != 0) {
    status = Status::FromErrno(errno, "syncing " + path_);
  }
  failed_ = !status.ok();
  return status;
}

}  // namespace xfer
