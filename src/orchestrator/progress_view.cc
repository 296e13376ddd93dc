#include "progress_view.h"

#include <cstdio>

#include "xfer/report.h"

namespace xfer::orchestrator {

namespace {

double Rate(const TargetState& t) { return t.seconds > 0 ? t.bytes / t.seconds : 0; }

std::string TerminalLine(const TargetState& t) {
  char line[512];
  double percent = t.total_bytes ? 100.0 * t.bytes / t.total_bytes : 0;
  double rate = Rate(t);
  double ratio = t.wire_bytes ? static_cast<double>(t.bytes) / t.wire_bytes : 0;
  std::string eta = "-";
  if (rate > 0 && t.total_bytes >= t.bytes) {
    eta = std::to_string(static_cast<long long>((t.total_bytes - t.bytes) / rate + 0.5)) + " s";
  }
  if (t.total_bytes == 0) {  // a stream (a live backup): its size is known at its end
    std::snprintf(line, sizeof line, "%-30.30s %10s so far %7.1f MB/s  ratio %.2f", t.label.c_str(),
                  Megabytes(t.bytes).c_str(), rate / 1e6, ratio);
    return line;
  }
  std::snprintf(line, sizeof line, "%-30.30s %5.1f%% %10s of %-10s %7.1f MB/s  ETA %-7s ratio %.2f",
                t.label.c_str(), percent, Megabytes(t.bytes).c_str(),
                Megabytes(t.total_bytes).c_str(), rate / 1e6, eta.c_str(), ratio);
  return line;
}

}  // namespace

void ProgressView::Start(const std::string& source_label, const SourceFacts& facts,
                         const std::vector<TargetState>& targets, const std::string& fanout) {
  if (mode_ != Mode::kJson) return;
  std::string json = "{\"event\":\"start\",\"source\":" + JsonString(source_label) +
                     ",\"name\":" + JsonString(facts.name) + ",\"fanout\":\"" + fanout +
                     "\",\"files\":" + std::to_string(facts.files) +
                     ",\"bytes\":" + std::to_string(facts.bytes) + ",\"targets\":[";
  for (size_t i = 0; i < targets.size(); ++i) {
    json += (i ? "," : "") + JsonString(targets[i].label);
  }
  std::printf("%s]}\n", json.c_str());
  std::fflush(stdout);
}

void ProgressView::Erase() {
  // Back to the first of our lines; each is rewritten (and cleared to its end) below.
  if (lines_drawn_ > 0) std::fprintf(stderr, "\033[%zuA", lines_drawn_);
}

void ProgressView::Tick(const std::vector<TargetState>& targets) {
  if (mode_ == Mode::kQuiet) return;
  if (mode_ == Mode::kJson) {
    for (const TargetState& t : targets) {
      if (t.finished) continue;
      double rate = Rate(t);
      double eta = rate > 0 && t.total_bytes >= t.bytes ? (t.total_bytes - t.bytes) / rate : -1;
      std::printf(
          "{\"event\":\"progress\",\"target\":%s,\"bytes\":%llu,\"total_bytes\":%llu,"
          "\"wire_bytes\":%llu,\"rate_mb_s\":%.1f,\"eta_s\":%.0f,\"ratio\":%.3f}\n",
          JsonString(t.label).c_str(), static_cast<unsigned long long>(t.bytes),
          static_cast<unsigned long long>(t.total_bytes),
          static_cast<unsigned long long>(t.wire_bytes), rate / 1e6, eta,
          t.wire_bytes ? static_cast<double>(t.bytes) / t.wire_bytes : 0.0);
    }
    std::fflush(stdout);
    return;
  }
  Erase();
  for (const TargetState& t : targets) std::fprintf(stderr, "%s\033[K\n", TerminalLine(t).c_str());
  lines_drawn_ = targets.size();
  std::fflush(stderr);
}

void ProgressView::Result(const TargetState& t) {
  if (mode_ != Mode::kJson) return;
  std::string json = "{\"event\":\"result\",\"target\":" + JsonString(t.label) +
                     ",\"ok\":" + (t.ok ? "true" : "false") +
                     ",\"bytes\":" + std::to_string(t.bytes) +
                     ",\"resumed_bytes\":" + std::to_string(t.resumed_bytes);
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, ",\"seconds\":%.3f", t.seconds);
  json += seconds;
  if (!t.ok) json += ",\"error\":" + JsonString(t.error);
  if (!t.ok && t.kept_bytes > 0) json += ",\"kept_bytes\":" + std::to_string(t.kept_bytes);
  if (t.discarded_bytes > 0) json += ",\"discarded_bytes\":" + std::to_string(t.discarded_bytes);
  if (!t.relinked_around.empty()) json += ",\"relinked_around\":" + JsonString(t.relinked_around);
  std::printf("%s}\n", json.c_str());
  std::fflush(stdout);
}

void ProgressView::StepResult(const std::string& step, const std::string& where,
                              const Status& status, double seconds) {
  if (mode_ != Mode::kJson) return;
  char timing[32];
  std::snprintf(timing, sizeof timing, ",\"seconds\":%.3f", seconds);
  std::string json = "{\"event\":" + JsonString(step) + ",\"where\":" + JsonString(where) +
                     ",\"ok\":" + (status.ok() ? "true" : "false") + timing;
  if (!status.ok()) json += ",\"error\":" + JsonString(status.message());
  std::printf("%s}\n", json.c_str());
  std::fflush(stdout);
}

size_t ProgressView::Summary(const std::vector<TargetState>& targets, double seconds) {
  size_t verified = 0;
  for (const TargetState& t : targets) verified += t.ok ? 1 : 0;
  if (mode_ == Mode::kJson) {
    // Which targets failed and why, as the terminal summary says it.
    std::string failures;
    for (const TargetState& t : targets) {
      if (t.ok) continue;
      failures += std::string(failures.empty() ? "" : ",") + "{\"target\":" + JsonString(t.label) +
                  ",\"error\":" + JsonString(t.error) + "}";
    }
    std::printf(
        "{\"event\":\"summary\",\"ok\":%s,\"targets\":%zu,\"verified\":%zu,"
        "\"failed\":%zu,\"seconds\":%.3f,\"failures\":[%s]}\n",
        verified == targets.size() ? "true" : "false", targets.size(), verified,
        targets.size() - verified, seconds, failures.c_str());
    std::fflush(stdout);
    return verified;
  }
  if (mode_ == Mode::kTerminal) Erase();
  const char* clear = mode_ == Mode::kTerminal ? "\033[K" : "";  // over the progress lines
  for (const TargetState& t : targets) {
    std::string relinked =
        t.relinked_around.empty() ? "" : ", re-linked around " + t.relinked_around;
    if (t.ok) {
      std::string resumed =
          t.resumed_bytes > 0 ? " (" + Megabytes(t.resumed_bytes) + " of it resumed)" : "";
      if (t.discarded_bytes > 0) {
        resumed += " (started over: " + Megabytes(t.discarded_bytes) +
                   " kept from an interrupted transfer discarded)";
      }
      std::fprintf(stderr, "xfer: %s: verified, %s%s in %.1f s (%.1f MB/s)%s%s\n", t.label.c_str(),
                   Megabytes(t.bytes).c_str(), resumed.c_str(), t.seconds, Rate(t) / 1e6,
                   relinked.c_str(), clear);
    } else if (t.kept_bytes > 0) {  // the error says "interrupted: ..." or "failed: ..."
      std::fprintf(stderr, "xfer: %s: %s%s%s\n", t.label.c_str(), t.error.c_str(), relinked.c_str(),
                   clear);
    } else {
      std::fprintf(stderr, "xfer: %s: FAILED: %s%s%s\n", t.label.c_str(), t.error.c_str(),
                   relinked.c_str(), clear);
    }
  }
  std::fprintf(stderr, "xfer: %zu of %zu targets verified in %.1f s\n", verified, targets.size(),
               seconds);
  lines_drawn_ = 0;
  return verified;
}

}  // namespace xfer::orchestrator
