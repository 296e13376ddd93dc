#include "send_source.h"

#include <utility>

#include "archive_file_source.h"
#include "archive_source_list.h"
#include "command_process.h"
#include "stream_copy.h"

namespace xfer {

namespace {

// Files and directories, each under its basename.
class TreeSource : public SendSource {
 public:
  explicit TreeSource(const std::vector<std::string>& paths) : paths_(paths) {}
  Status Summarize(SourceSummary* out) override { return SummarizeSources(paths_, out); }
  Status Write(ByteSink* sink, const CancelToken* cancel, const HeldFiles* held, Manifest* manifest,
               ArchiveCounters* counters) override {
    return WriteArchive(paths_, sink, cancel, held, manifest, counters);
  }

 private:
  const std::vector<std::string>& paths_;
};

// Exactly the names of a list.
class ListSource : public SendSource {
 public:
  explicit ListSource(const SendOptions& options)
      : list_{options.file_list, options.file_list_dir, options.file_list_origin} {}
  Status Summarize(SourceSummary* out) override { return SummarizeFileList(list_, out); }
  Status Write(ByteSink* sink, const CancelToken* cancel, const HeldFiles* held, Manifest* manifest,
               ArchiveCounters* counters) override {
    return WriteFileList(list_, sink, cancel, held, manifest, counters);
  }

 private:
  FileList list_;
};

// The entries of an archive file.
class ArchiveFileSource : public SendSource {
 public:
  ArchiveFileSource(const std::string& path, int strip_components)
      : path_(path), strip_components_(strip_components) {}
  Status Summarize(SourceSummary* out) override {
    return SummarizeArchiveFile(path_, strip_components_, out);
  }
  Status Write(ByteSink* sink, const CancelToken* cancel, const HeldFiles*, Manifest* manifest,
               ArchiveCounters* counters) override {
    return CopyArchiveFile(path_, strip_components_, sink, cancel, manifest, counters);
  }

 private:
  const std::string& path_;
  int strip_components_;
};

// The output of a command, or what a descriptor yields.
class StreamSource : public SendSource {
 public:
  StreamSource(const std::vector<std::string>& exec, int fd, std::chrono::milliseconds idle,
               const CancelToken* caller_cancel)
      : exec_(exec), fd_(fd), idle_(idle), caller_cancel_(caller_cancel) {}
  bool stream() const override { return true; }
  Status Summarize(SourceSummary* out) override {
    *out = SourceSummary();
    return Status::Ok();
  }
  Status Write(ByteSink* sink, const CancelToken* cancel, const HeldFiles*, Manifest*,
               ArchiveCounters* counters) override {
    // The pipeline stops the copy when a receiver fails; the caller's cancel (a signal) too,
    // since a silent command would otherwise hold the pipeline, which waits for its chunks.
    if (exec_.empty()) {
      return CopyStream(fd_, "the input stream", sink, idle_, cancel, caller_cancel_, counters);
    }
    std::unique_ptr<CommandProcess> command;
    XFER_RETURN_IF_ERROR(
        CommandProcess::Start(exec_, CommandProcess::Role::kProducer, "", &command));
    Status copied =
        CopyStream(command->fd(), command->shown(), sink, idle_, cancel, caller_cancel_, counters);
    if (!copied.ok()) {
      command->Kill();
      return copied;
    }
    // Its output ended; its verdict comes with its exit, which closing stdout may precede.
    command->ClosePipe();
    return command->Wait(Deadline::After(idle_), caller_cancel_);
  }

 private:
  const std::vector<std::string>& exec_;
  int fd_;
  std::chrono::milliseconds idle_;
  const CancelToken* caller_cancel_;
};

}  // namespace

Status LoadFileList(const std::string& path, bool nul_separated, SendOptions* options) {
  FileList list;
  XFER_RETURN_IF_ERROR(ReadFileList(path, nul_separated, &list));
  if (list.names.empty()) {
    return Status(Code::kInvalidArgument, "files-from " + list.origin + ": the list names nothing");
  }
  options->file_list = std::move(list.names);
  options->file_list_origin = std::move(list.origin);
  return Status::Ok();
}

Status SendSource::Open(const SendOptions& options, std::unique_ptr<SendSource>* out) {
  int kinds = !options.paths.empty() + !options.file_list.empty() + !options.from_archive.empty() +
              !options.exec.empty() + (options.stream_fd >= 0);
  if (kinds == 0) return Status(Code::kInvalidArgument, "nothing to send");
  if (kinds > 1) {
    return Status(Code::kInvalidArgument,
                  "send one kind of source: paths, a file list, an archive, a command's output "
                  "or a stream");
  }
  bool stream = !options.exec.empty() || options.stream_fd >= 0;
  if (options.strip_components < 0 ||
      (options.strip_components > 0 && options.from_archive.empty())) {
    return Status(Code::kInvalidArgument,
                  "strip components: a number of 0 or more, with an archive to send");
  }
  if (!options.exec.empty()) XFER_RETURN_IF_ERROR(CommandProcess::CheckRunnable(options.exec));
  if (stream) {
    out->reset(
        new StreamSource(options.exec, options.stream_fd, options.idle_timeout, options.cancel));
  } else if (!options.from_archive.empty()) {
    out->reset(new ArchiveFileSource(options.from_archive, options.strip_components));
  } else if (!options.file_list.empty()) {
    out->reset(new ListSource(options));
  } else {
    out->reset(new TreeSource(options.paths));
  }
  return Status::Ok();
}

}  // namespace xfer
