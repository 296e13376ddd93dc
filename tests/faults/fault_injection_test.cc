// The fault-injection suite: for each kind of fault, XFER_FAULT_POINTS transfers of one tree, each
// hit at a random byte of the sender's stream (kill -9 of either program, a cut connection, a
// flipped byte, a stream ended early, a disk that fills up). After each: both programs ended
// non-zero with a clear error and no process is left; the destination holds nothing new outside
// its staging directory (or, when the fault came too late to matter, the complete verified tree);
// and a --resume run then completes and verifies.
//
// Environment: XFER_FAULT_POINTS (points per kind, default 50), XFER_FAULT_SEED (the printed seed
// of a run to replay it), XFER_FAULT_VERBOSE=1 (each run's stderr), XFER_FAULT_KEEP_GOING=1 (run
// every point of a kind even after it failed several). Needs root (tmpfs mounts).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <regex>

#include "fault_suite.h"
#include "process_table.h"
#include "staging_dir.h"
#include "transfer_harness.h"
#include "transfer_run.h"
#include "tree_compare.h"

namespace xfer::testing {
namespace {

using ::testing::IsEmpty;
using Then = TcpProxy::Decision::Then;

// A kind that fails this many points stops early, the cause being most likely the same each time
// (XFER_FAULT_KEEP_GOING=1: run every point anyway, to count them).
constexpr int kMaxFailedPoints = 5;
const std::vector<std::string> kOnlyTheTree = {"tree"};

enum class Kind { kKillSender, kKillReceiver, kCut, kFlip, kTruncate, kFillDisk };

// What the receiver of a plain stream says of a flipped byte: the record's MAC catches it, in the
// body, the tag or the length field.
constexpr char kPlainCorruption[] = "failed authentication";

struct KindInfo {
  Kind kind;
  const char* name;   // for the summary
  const char* label;  // for directory names
  bool kills_sender = false;
  bool kills_receiver = false;
  // The fault may come when the receiver already holds everything it needs (the dead sender's
  // last bytes were in flight; the disk filled after the last write): it then commits.
  bool may_commit = false;
  // Run the sender at kSlowRate: the receiver's journal then records what it holds (about once
  // a second) before the fault, for faults that leave the receiver no chance to record it when
  // it fails (killed with -9; out of space for the journal too).
  bool slow = false;
  // What each program's error line must match (ECMAScript regex); unused for a killed program.
  const char* receiver_says = "";
  const char* sender_says = "";
};

constexpr KindInfo kKillSender{
    .kind = Kind::kKillSender,
    .name = "kill -9 sender",
    .label = "kill-sender",
    .kills_sender = true,
    .may_commit = true,
    .receiver_says = "sender",
};
constexpr KindInfo kKillReceiver{
    .kind = Kind::kKillReceiver,
    .name = "kill -9 receiver",
    .label = "kill-receiver",
    .kills_receiver = true,
    .slow = true,
    .sender_says = "receiver",
};
constexpr KindInfo kCut{
    .kind = Kind::kCut,
    .name = "connection cut",
    .label = "cut",
    .receiver_says = "sender",
    .sender_says = "receiver",
};
constexpr KindInfo kFlip{
    .kind = Kind::kFlip,
    .name = "flipped byte",
    .label = "flip",
    .receiver_says = "",  // by mode: see ReceiverSays
    .sender_says = "receiver",
};
constexpr KindInfo kTruncate{
    .kind = Kind::kTruncate,
    .name = "truncated stream",
    .label = "truncate",
    .receiver_says = "sender",
    .sender_says = "receiver",
};
constexpr KindInfo kFillDisk{
    .kind = Kind::kFillDisk,
    .name = "disk full",
    .label = "disk-full",
    .may_commit = true,
    .slow = true,
    .receiver_says = "No space left on device",
    .sender_says = "receiver: .*No space left on device",
};

std::string ReceiverSays(const KindInfo& info, const StreamConfig& config) {
  if (info.kind != Kind::kFlip) return info.receiver_says;
  // Under TLS the record's authentication tag catches the byte before xfer sees it.
  return config.plain ? kPlainCorruption : "TLS record failed authentication|TLS error";
}

struct Point {
  StreamConfig config;  // alternately plain and TLS; every other pair compressed
  uint64_t offset = 0;
  uint8_t mask = 0;  // what a flipped byte is XORed with
};

std::vector<Point> DrawPoints(Kind kind) {
  FaultSuite& suite = Suite();
  // One stream per kind: running one test alone (--gtest_filter) draws the same points.
  std::mt19937_64 rng(suite.seed() * 1000003 + static_cast<uint64_t>(kind));
  std::vector<Point> points(static_cast<size_t>(suite.points()));
  for (size_t i = 0; i < points.size(); ++i) {
    points[i].config = StreamConfig{i % 2 == 0, i / 2 % 2 == 1};
    const StreamShape& shape = suite.shape(points[i].config);
    points[i].offset =
        std::uniform_int_distribution<uint64_t>(shape.first_data, shape.data_end - 1)(rng);
    points[i].mask = static_cast<uint8_t>(std::uniform_int_distribution<int>(1, 255)(rng));
  }
  return points;
}

std::string Describe(const StreamConfig& config) {
  return std::string(config.plain ? "plain" : "TLS") + (config.compressed ? " compressed" : " raw");
}

FaultAction MakeAction(Kind kind, uint8_t mask, TmpfsMount* disk, uint64_t* filled) {
  switch (kind) {
    case Kind::kKillSender:
      return [](RunParties& parties, uint8_t*, size_t) {
        parties.SignalSender(SIGKILL);
        return TcpProxy::Decision{};
      };
    case Kind::kKillReceiver:
      return [](RunParties& parties, uint8_t*, size_t) {
        parties.SignalReceiver(SIGKILL);
        return TcpProxy::Decision{};
      };
    case Kind::kCut:
      return [](RunParties&, uint8_t*, size_t) { return TcpProxy::Decision{0, Then::kCut}; };
    case Kind::kFlip:
      return [mask](RunParties&, uint8_t* data, size_t) {
        data[0] ^= mask;
        return TcpProxy::Decision{};
      };
    case Kind::kTruncate:
      return [](RunParties&, uint8_t*, size_t) { return TcpProxy::Decision{0, Then::kEndStream}; };
    case Kind::kFillDisk:
      return [disk, filled](RunParties&, uint8_t*, size_t) {
        *filled = disk->FillUp("filler");
        return TcpProxy::Decision{};
      };
  }
  return nullptr;
}

// Failed expectations so far in the running test.
int FailedParts() {
  const ::testing::TestResult* result =
      ::testing::UnitTest::GetInstance()->current_test_info()->result();
  int failed = 0;
  for (int i = 0; i < result->total_part_count(); ++i) {
    failed += result->GetTestPartResult(i).failed() ? 1 : 0;
  }
  return failed;
}

std::string SecretOf(const std::string& ticket) {
  size_t first = ticket.find(':');
  size_t second = first == std::string::npos ? first : ticket.find(':', first + 1);
  if (second == std::string::npos) return "";
  size_t third = ticket.find(':', second + 1);
  return ticket.substr(second + 1, third == std::string::npos ? third : third - second - 1);
}

void ExpectSecretNotLogged(const RunOutcome& run) {
  std::string secret = SecretOf(run.ticket);
  if (secret.empty()) return;
  // The receiver's first stdout line is the ticket itself: by design, and nowhere else.
  std::string receiver_rest =
      run.receiver_stdout.substr(std::min(run.ticket.size() + 1, run.receiver_stdout.size()));
  const std::pair<const char*, const std::string*> outputs[] = {
      {"xfer-recv's stderr", &run.receiver_stderr},
      {"xfer-recv's stdout after the ticket", &receiver_rest},
      {"xfer-send's stderr", &run.sender_stderr},
      {"xfer-send's stdout", &run.sender_stdout}};
  for (const auto& [name, text] : outputs) {
    EXPECT_EQ(text->find(secret), std::string::npos) << "the ticket's secret appears in " << name;
  }
}

void ExpectNoProcessLeft(const std::string& dest) {
  EXPECT_THAT(ProcessesMentioning(dest), IsEmpty()) << "a process still runs for " << dest;
  EXPECT_THAT(ProcessesMentioning(Suite().source()), IsEmpty())
      << "a process still runs for " << Suite().source();
}

// A program that failed (exit 1) must say why on stderr: "PROGRAM: error: MESSAGE", the message
// matching `says`.
void ExpectErrorLine(const char* program, int exit_code, const std::string& stderr_text,
                     const std::string& says, const RunSpec& spec, KindStats* stats) {
  if (exit_code != 1) return;
  std::string prefix = std::string(program) + ": error: ";
  std::string line = FirstLineStartingWith(stderr_text, prefix);
  EXPECT_GT(line.size(), prefix.size()) << program << " failed without an error line; stderr:\n"
                                        << stderr_text;
  EXPECT_TRUE(
      std::regex_search(line.substr(std::min(line.size(), prefix.size())), std::regex(says)))
      << program << "'s error does not match \"" << says << "\": " << line;
  if (!line.empty()) ++stats->messages[NormalizeMessage(line, spec.dest, Suite().source())];
}

// Checks what the faulted run left; returns whether the receiver committed all the same.
bool CheckFaultedRun(const KindInfo& info, const Point& point, const RunSpec& spec,
                     const RunOutcome& run, KindStats* stats) {
  int failures_before = FailedParts();
  const std::string& source = Suite().source();
  EXPECT_FALSE(run.ticket.empty()) << "xfer-recv printed no ticket; stderr:\n"
                                   << run.receiver_stderr;
  EXPECT_TRUE(run.fault_injected) << "the sender's stream ended at byte " << run.upstream_bytes
                                  << ", before the fault's";
  EXPECT_NE(run.sender_exit, -1) << "xfer-send did not exit within " << kExitDeadline.count()
                                 << " s; stderr:\n"
                                 << run.sender_stderr;
  EXPECT_NE(run.receiver_exit, -1)
      << "xfer-recv did not exit within " << kExitDeadline.count() << " s; stderr:\n"
      << run.receiver_stderr;
  bool committed = run.receiver_exit == 0;
  if (committed) {
    ++stats->committed_first;
    EXPECT_TRUE(info.may_commit) << "xfer-recv committed despite the fault";
    EXPECT_THAT(CompareTrees(source, spec.dest + "/tree"), IsEmpty());
    EXPECT_EQ(ListDir(spec.dest), kOnlyTheTree);
  } else {
    EXPECT_THAT(ListDirIgnoringStaging(spec.dest), IsEmpty())
        << "the failed transfer left something outside its staging directory";
  }
  int sender_want = info.kills_sender ? 128 + SIGKILL : committed ? 0 : 1;
  int receiver_want = info.kills_receiver ? 128 + SIGKILL : committed ? 0 : 1;
  EXPECT_EQ(run.sender_exit, sender_want) << "xfer-send's stderr:\n" << run.sender_stderr;
  EXPECT_EQ(run.receiver_exit, receiver_want) << "xfer-recv's stderr:\n" << run.receiver_stderr;
  ExpectErrorLine("xfer-send", run.sender_exit, run.sender_stderr, info.sender_says, spec, stats);
  ExpectErrorLine("xfer-recv", run.receiver_exit, run.receiver_stderr,
                  ReceiverSays(info, point.config), spec, stats);
  ExpectSecretNotLogged(run);
  ExpectNoProcessLeft(spec.dest);
  if (!committed && FailedParts() == failures_before) ++stats->failed_cleanly;
  return committed;
}

// A --resume run with no fault: must complete and leave exactly the source tree.
void ResumeAndVerify(const RunSpec& faulted, const StreamConfig& config, KindStats* stats) {
  const std::string& source = Suite().source();
  RunSpec spec;
  spec.dest = faulted.dest;
  spec.sources = faulted.sources;
  spec.plain = faulted.plain;
  spec.receiver_args = kResumeArgs;
  spec.receiver_args.push_back("--json");
  spec.sender_args = Suite().SenderArgs(config, false);
  spec.sender_args.push_back("--json");
  spec.proxy_buffer_bytes = kProxyBufferBytes;
  RunOutcome run = RunTransfer(spec);
  if (std::getenv("XFER_FAULT_VERBOSE") != nullptr) {
    std::printf("  resumed: sender %d, receiver %d\n    %s    %s", run.sender_exit,
                run.receiver_exit, run.receiver_stdout.c_str(), run.receiver_stderr.c_str());
  }
  EXPECT_EQ(run.sender_exit, 0) << "the --resume run failed; xfer-send's stderr:\n"
                                << run.sender_stderr;
  EXPECT_EQ(run.receiver_exit, 0) << "the --resume run failed; xfer-recv's stderr:\n"
                                  << run.receiver_stderr;
  std::vector<std::string> differences = CompareTrees(source, spec.dest + "/tree");
  EXPECT_THAT(differences, IsEmpty());
  EXPECT_EQ(ListDir(spec.dest), kOnlyTheTree) << "something besides the tree is left";
  uint64_t lost = differences.empty() ? 0 : BytesLost(source, spec.dest + "/tree");
  EXPECT_EQ(lost, 0u);
  stats->bytes_lost += lost;
  if (run.sender_exit == 0 && run.receiver_exit == 0) {
    if (differences.empty()) ++stats->resumed;
    uint64_t held = 0;
    if (JsonNumberField(run.receiver_stdout, "resumed_bytes", &held)) {
      stats->resumed_bytes += held;
      if (held > 0) ++stats->resumed_holding;
    }
  }
  ExpectSecretNotLogged(run);
  ExpectNoProcessLeft(spec.dest);
}

// Unmounts (for the full disk) and removes one run's directory, whatever the run's outcome.
struct RunDir {
  std::string path;
  std::unique_ptr<TmpfsMount> disk;
  ~RunDir() {
    disk.reset();
    Status removed = RemoveTree(path);
    EXPECT_TRUE(removed.ok()) << removed.message();
  }
};

uint64_t SpaceNeeded() {
  const SourceFootprint& footprint = Suite().footprint();
  return footprint.allocated_bytes + footprint.entries * 4096;
}

void RunPoint(const KindInfo& info, const Point& point, KindStats* stats) {
  RunDir dir{Suite().NewRunDir(info.label), nullptr};
  if (info.kind == Kind::kFillDisk) {
    // Room for the whole tree twice: the receiver admits the transfer, and the disk fills only
    // when the fault fills it.
    std::string error;
    dir.disk = TmpfsMount::Mount(dir.path, 2 * SpaceNeeded() + (4 << 20), &error);
    ASSERT_NE(dir.disk, nullptr) << error;
  }
  RunSpec spec;
  spec.dest = dir.path + "/dest";
  ASSERT_EQ(mkdir(spec.dest.c_str(), 0755), 0);
  spec.sources = {Suite().source()};
  spec.plain = point.config.plain;
  spec.receiver_args = kResumeArgs;
  spec.sender_args = Suite().SenderArgs(point.config, info.slow);
  spec.fault_offset = point.offset;
  uint64_t filled = 0;
  spec.action = MakeAction(info.kind, point.mask, dir.disk.get(), &filled);
  spec.proxy_buffer_bytes = kProxyBufferBytes;
  RunOutcome run = RunTransfer(spec);
  ++stats->points;
  if (run.fault_injected) ++stats->injected;
  if (std::getenv("XFER_FAULT_VERBOSE") != nullptr) {
    std::printf("  %s at byte %" PRIu64 " (%s): sender %d, receiver %d\n    %s    %s", info.name,
                point.offset, Describe(point.config).c_str(), run.sender_exit, run.receiver_exit,
                run.sender_stderr.c_str(), run.receiver_stderr.c_str());
  }
  if (CheckFaultedRun(info, point, spec, run, stats)) return;  // committed: nothing to resume
  if (dir.disk != nullptr) {
    // The operator makes room: more than the filler took, and the whole tree again.
    std::string error;
    ASSERT_TRUE(dir.disk->Resize(dir.disk->size_bytes() + filled + 2 * SpaceNeeded(), &error))
        << error;
  }
  ResumeAndVerify(spec, point.config, stats);
}

void RunKind(const KindInfo& info) {
  FaultSuite& suite = Suite();
  if (!suite.ready()) GTEST_FAIL() << "the suite's setup failed (see above)";
  if (info.kind == Kind::kFillDisk && !suite.can_mount()) {
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  }
  KindStats stats;
  stats.kind = info.name;
  auto start = std::chrono::steady_clock::now();
  std::vector<Point> points = DrawPoints(info.kind);
  for (size_t i = 0; i < points.size(); ++i) {
    int failures_before = FailedParts();
    {
      const StreamShape& shape = suite.shape(points[i].config);
      SCOPED_TRACE(std::string(info.name) + ", point " + std::to_string(i) + " of " +
                   std::to_string(points.size()) + ": " + Describe(points[i].config) +
                   ", at byte " + std::to_string(points[i].offset) + " of " +
                   std::to_string(shape.data_end) +
                   " (XFER_FAULT_SEED=" + std::to_string(suite.seed()) + ")");
      RunPoint(info, points[i], &stats);
    }
    if (FailedParts() > failures_before && ++stats.failed_points >= kMaxFailedPoints &&
        std::getenv("XFER_FAULT_KEEP_GOING") == nullptr) {
      ADD_FAILURE() << "stopping " << info.name << " after " << kMaxFailedPoints
                    << " failed points";
      break;
    }
  }
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "%s: %d points, %d injected, %d committed before the fault, %d failed cleanly, "
      "%d resumed (%d holding %" PRIu64 " bytes), %" PRIu64 " bytes lost, %.1f s\n",
      info.name, stats.points, stats.injected, stats.committed_first, stats.failed_cleanly,
      stats.resumed, stats.resumed_holding, stats.resumed_bytes, stats.bytes_lost, stats.seconds);
  for (const auto& [message, count] : stats.messages) {
    std::printf("  %4d x %s\n", count, message.c_str());
  }
  suite.Record(stats);
}

TEST(FaultInjection, SenderKilledAnywhereFailsCleanlyAndResumes) { RunKind(kKillSender); }

TEST(FaultInjection, ReceiverKilledAnywhereFailsCleanlyAndResumes) { RunKind(kKillReceiver); }

TEST(FaultInjection, ConnectionCutAnywhereFailsCleanlyAndResumes) { RunKind(kCut); }

TEST(FaultInjection, FlippedByteIsCaughtAndResumes) { RunKind(kFlip); }

TEST(FaultInjection, StreamEndedEarlyFailsCleanlyAndResumes) { RunKind(kTruncate); }

TEST(FaultInjection, DiskFillingUpFailsCleanlyAndResumes) { RunKind(kFillDisk); }

}  // namespace
}  // namespace xfer::testing
