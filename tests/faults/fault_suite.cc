#include "fault_suite.h"

#include <gmock/gmock.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "staging_dir.h"
#include "transfer_run.h"
#include "tree_compare.h"

namespace xfer::testing {

const std::vector<std::string> kResumeArgs = {"--resume"};

namespace {

constexpr uint64_t kDefaultSeed = 20260601;
constexpr int kDefaultPoints = 50;
constexpr uint64_t kMiB = 1024 * 1024;
// Source, one destination at a time, and its staging directory fit many times over.
constexpr uint64_t kScratchBytes = 256 * kMiB;
// Plain mode: the client's 24-byte "XFERAUT2" || Nc and its 32-byte HMAC come before any frame.
constexpr uint64_t kPlainAuthBytes = 24 + 32;
// Then records: u32 length, body, 16-byte tag (docs/protocol.md section 2).
constexpr uint64_t kPlainRecordOverhead = 4 + 16;
constexpr uint8_t kFrameData = 4;
constexpr uint8_t kFrameTrailer = 6;

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  uint64_t value = std::strtoull(text, &end, 0);
  if (*end != '\0') {
    ADD_FAILURE() << name << "='" << text << "' is not a number";
    return fallback;
  }
  return value;
}

// Walks the frames of a plain-mode stream (docs/protocol.md sections 2 and 3: each frame's header
// is one record, its payload the records after it) and returns the offset of the first frame of
// the given type, or of the byte after it (end = true); 0 if none.
uint64_t PlainFrameOffset(const std::string& stream, uint8_t type, bool end) {
  uint64_t at = kPlainAuthBytes;
  auto record_len = [&](uint64_t record) {
    uint32_t len = 0;
    std::memcpy(&len, stream.data() + record, 4);  // little-endian, as is this host
    return len;
  };
  while (at + 4 + 32 <= stream.size()) {
    uint64_t frame = at;
    uint32_t payload_len = 0;
    std::memcpy(&payload_len, stream.data() + at + 4 + 4, 4);
    at += kPlainRecordOverhead + record_len(at);
    for (uint64_t left = payload_len; left > 0 && at + 4 <= stream.size();) {
      left -= std::min<uint64_t>(left, record_len(at));
      at += kPlainRecordOverhead + record_len(at);
    }
    if (static_cast<uint8_t>(stream[frame + 4]) == type) return end ? at : frame;
  }
  return 0;
}

}  // namespace

FaultSuite& Suite() {
  static FaultSuite* suite =
      static_cast<FaultSuite*>(::testing::AddGlobalTestEnvironment(new FaultSuite));
  return *suite;
}

// Registers the environment before RUN_ALL_TESTS.
[[maybe_unused]] static FaultSuite& g_registered = Suite();

std::vector<std::string> FaultSuite::SenderArgs(const StreamConfig& config, bool slow) const {
  std::vector<std::string> args = {"--chunk-size", "64K"};
  args.insert(args.end(), kResumeArgs.begin(), kResumeArgs.end());
  if (config.compressed) args.insert(args.end(), {"--level", "1"});
  if (slow) args.insert(args.end(), {"--limit-rate", kSlowRate});
  return args;
}

std::string FaultSuite::NewRunDir(const std::string& label) {
  std::string dir = work_ + "/" + label + "-" + std::to_string(++runs_);
  if (mkdir(dir.c_str(), 0755) != 0) ADD_FAILURE() << "mkdir " << dir << ": " << strerror(errno);
  return dir;
}

void FaultSuite::SetUp() {
  seed_ = EnvNumber("XFER_FAULT_SEED", kDefaultSeed);
  points_ = static_cast<int>(EnvNumber("XFER_FAULT_POINTS", kDefaultPoints));
  std::printf("fault suite: seed %" PRIu64
              " (XFER_FAULT_SEED overrides it), %d points per kind "
              "(XFER_FAULT_POINTS)\n",
              seed_, points_);
  root_ = std::make_unique<TempDir>();
  work_ = root_->Sub("work");
  ASSERT_EQ(mkdir(work_.c_str(), 0755), 0) << work_ << ": " << strerror(errno);
  // Everything on a tmpfs: no disk I/O to wait for (the receiver syncs before it commits), and
  // nothing left on disk if the run is killed.
  std::string error;
  scratch_ = TmpfsMount::Mount(work_, kScratchBytes, &error);
  can_mount_ = scratch_ != nullptr;
  if (!can_mount_) {
    std::printf("note: %s; working in %s instead, and the full-disk faults are skipped\n",
                error.c_str(), work_.c_str());
  }
  ASSERT_EQ(mkdir((work_ + "/src").c_str(), 0755), 0);
  for (const std::string& note : BuildFaultSource(work_ + "/src", "tree")) {
    std::printf("note: source tree: %s\n", note.c_str());
  }
  source_ = work_ + "/src/tree";
  footprint_ = Footprint(source_);
  std::printf("source: %" PRIu64 " entries, %" PRIu64 " files, %" PRIu64 " content bytes, %" PRIu64
              " allocated\n",
              footprint_.entries, footprint_.files, footprint_.content_bytes,
              footprint_.allocated_bytes);
  ready_ = true;
  for (bool compressed : {false, true}) {
    for (bool plain : {false, true}) {
      StreamConfig config{plain, compressed};
      StreamShape& shape = shapes_[Index(config)];
      shape = Calibrate(config);
      ready_ = ready_ && shape.first_data > 0 && shape.first_data < shape.data_end;
    }
  }
  ready_ = ready_ && !::testing::Test::HasFailure();
}

StreamShape FaultSuite::Calibrate(const StreamConfig& config) {
  std::string mode =
      std::string(config.plain ? "plain" : "tls") + (config.compressed ? ", compressed" : ", raw");
  StreamShape shapes[2];
  // Twice, the second time slowed down as some kinds run: the points are drawn from one run's
  // stream and applied to others, so where its parts lie must not vary from run to run.
  for (int slow = 0; slow < 2; ++slow) {
    StreamShape& shape = shapes[slow];
    std::string parent = NewRunDir("calibrate");
    RunSpec spec;
    spec.dest = parent + "/dest";
    EXPECT_EQ(mkdir(spec.dest.c_str(), 0755), 0);
    spec.sources = {source_};
    spec.plain = config.plain;
    spec.receiver_args = kResumeArgs;
    spec.sender_args = SenderArgs(config, slow == 1);
    spec.proxy_buffer_bytes = kProxyBufferBytes;
    spec.record_upstream = config.plain;
    RunOutcome run = RunTransfer(spec);
    EXPECT_EQ(run.sender_exit, 0) << run.sender_stderr;
    EXPECT_EQ(run.receiver_exit, 0) << run.receiver_stderr;
    EXPECT_THAT(CompareTrees(source_, spec.dest + "/tree"), ::testing::IsEmpty());
    // The server answers at the start (authentication, then ACCEPT: the sender sends no DATA
    // before it) and at the end (RESULT, after the TRAILER): the last answer in the first half
    // of the stream came just before the first DATA byte, the first one in the second half just
    // after the TRAILER's last byte.
    shape.total = run.upstream_bytes;
    std::string replies;
    for (uint64_t offset : run.reply_offsets) {
      replies += " " + std::to_string(offset);
      if (offset < shape.total / 2) shape.first_data = std::max(shape.first_data, offset);
      if (offset >= shape.total / 2 && shape.data_end == 0) shape.data_end = offset;
    }
    std::printf("calibration (%s%s): %" PRIu64 " bytes from the sender, first DATA at %" PRIu64
                ", TRAILER ends at %" PRIu64 "; server answers after bytes%s\n",
                mode.c_str(), slow ? ", slowed" : "", shape.total, shape.first_data, shape.data_end,
                replies.c_str());
    if (config.plain) {
      EXPECT_EQ(PlainFrameOffset(run.upstream, kFrameData, false), shape.first_data);
      EXPECT_EQ(PlainFrameOffset(run.upstream, kFrameTrailer, true), shape.data_end);
    }
    Status removed = RemoveTree(parent);
    EXPECT_TRUE(removed.ok()) << removed.message();
  }
  EXPECT_EQ(shapes[0].first_data, shapes[1].first_data) << mode;
  EXPECT_EQ(shapes[0].data_end, shapes[1].data_end) << mode << ": the stream's length varies";
  return shapes[0];
}

void FaultSuite::TearDown() {
  std::printf("\nfault suite summary (seed %" PRIu64 ", %d points per kind):\n%s", seed_, points_,
              SummaryTable(stats_).c_str());
  std::fflush(stdout);
  scratch_.reset();
  root_.reset();
}

}  // namespace xfer::testing
