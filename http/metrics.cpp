#include "http/metrics.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>

#include "common/build_info.hpp"
#include "eventstore/event_log.hpp"
#include "eventstore/rocksdb_version.hpp"
#include "eventstore/store_stats_bounds.hpp"
#include "projections/read_model.hpp"

namespace tl {
namespace {

// Each histogram has one bucket per bound and one past the last ("+Inf").
static_assert(std::tuple_size_v<decltype(StoreStats::batch_size_buckets)> == kBatchSizeBounds.size() + 1);
static_assert(std::tuple_size_v<decltype(StoreStats::write_latency_buckets)> == kWriteLatencyBoundsMs.size() + 1);

constexpr std::size_t kWakeAt = 64 * 1024;       // ask the flusher to write before its period
constexpr std::size_t kWriteInlineAt = 8 << 20;  // stderr is stuck: the caller writes (and waits)
constexpr std::size_t kChunk = 4096;             // PIPE_BUF: a chunk is never interleaved
constexpr auto kPeriod = std::chrono::milliseconds(100);

// "2026-11-27T23:42:38.123Z info " as spdlog's pattern in main writes it; the date part is
// formatted once per second per thread.
void append_prefix(fmt::memory_buffer& out) {
  thread_local std::time_t cached_second = -1;
  thread_local char cached[32];
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t second = static_cast<std::time_t>(ms / 1000);
  if (second != cached_second) {
    std::tm tm{};
    gmtime_r(&second, &tm);
    std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
    cached_second = second;
  }
  fmt::format_to(std::back_inserter(out), "{}.{:03}Z info ", cached, ms % 1000);
}

// A label value in the text format: backslash, double quote and newline escaped.
std::string label_value(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// One series, the same for the life of the process (its labels are fixed at build time), so it
// adds nothing to the bound on series; built once.
const std::string& build_info_series() {
  static const std::string series = [] {
    const BuildInfo b = build_info(rocksdb_version());
    return fmt::format(
        "# HELP tokenledger_build_info The build serving (always 1): version, git commit, build type, RocksDB and "
        "Boost versions.\n# TYPE tokenledger_build_info gauge\n"
        "tokenledger_build_info{{version=\"{}\",commit=\"{}\",build_type=\"{}\",rocksdb=\"{}\",boost=\"{}\"}} 1\n",
        label_value(b.version), label_value(b.commit), label_value(b.build_type), label_value(b.rocksdb),
        label_value(b.boost));
  }();
  return series;
}

}  // namespace

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  flush();
}

void AccessLog::write(std::string_view method, std::string_view route, unsigned status, std::int64_t micros,
                      std::string_view ip, std::string_view request_id) {
  if (!spdlog::default_logger_raw()->should_log(spdlog::level::info)) return;
  thread_local fmt::memory_buffer line;
  line.clear();
  append_prefix(line);
  fmt::format_to(std::back_inserter(line), "{} {} {} {}.{:03}ms ip={} id={}\n", method, route, status, micros / 1000,
                 micros % 1000, ip, request_id);
  std::string overflow;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (!flusher_.joinable() && !stopping_) flusher_ = std::thread([this] { run(); });
    pending_.append(line.data(), line.size());
    wake = pending_.size() >= kWakeAt;
    if (pending_.size() >= kWriteInlineAt) overflow.swap(pending_);
  }
  if (!overflow.empty()) write_out(overflow);
  if (wake) wake_.notify_one();
}

void AccessLog::flush() {
  std::string batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(pending_);
  }
  if (!batch.empty()) write_out(batch);
}

void AccessLog::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, kPeriod, [&] { return stopping_ || pending_.size() >= kWakeAt; });
    if (pending_.empty()) continue;
    std::string batch;
    batch.swap(pending_);
    lock.unlock();
    write_out(batch);
    lock.lock();
  }
}

// Whole lines, at most PIPE_BUF bytes per write(2), so that the server's other log lines
// (written by spdlog to the same stderr) never land inside one.
void AccessLog::write_out(const std::string& text) {
  std::lock_guard lock(out_mutex_);
  std::string_view rest = text;
  while (!rest.empty()) {
    std::size_t n = rest.size();
    if (n > kChunk) {
      const auto cut = rest.rfind('\n', kChunk - 1);
      n = cut == std::string_view::npos ? kChunk : cut + 1;
    }
    std::string_view chunk = rest.substr(0, n);
    while (!chunk.empty()) {
      const ssize_t w = ::write(STDERR_FILENO, chunk.data(), chunk.size());
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return;  // stderr is gone: nothing sensible is left to do with the lines
      chunk.remove_prefix(static_cast<std::size_t>(w));
    }
    rest.remove_prefix(n);
  }
}

// The methods of RFC 9110 §9 and PATCH (RFC 5789) keep their name; any other a client sends
// is counted as "other", so no client can grow the label set (issue 12).
std::string_view RequestMetrics::method_label(std::string_view method) {
  static constexpr std::array<std::string_view, 9> kKnown = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                                             "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  for (std::string_view known : kKnown) {
    if (method == known) return known;
  }
  return kOther;
}

void RequestMetrics::record_request(std::string_view method, std::string_view route, unsigned status,
                                    std::int64_t micros, std::string_view ip, std::string_view request_id) {
  record(method, route, status, static_cast<double>(micros) / 1e6);
  // The method as sent, cut short: a line per request must not carry kilobytes of it.
  access_log_.write(method.substr(0, kLoggedMethodBytes), route, status, micros, ip, request_id);
}

void RequestMetrics::record(std::string_view method, std::string_view route, unsigned status, double seconds) {
  method = method_label(method);
  if (route == "unmatched") route = kOther;
  std::lock_guard lock(mutex_);
  // Routes are the router's patterns and statuses three digits, so the set is bounded already;
  // the cap holds even if a caller ever passed something else.
  if (counts_.size() >= kMaxSeries && !counts_.contains(KeyView{method, route, status})) method = route = kOther;
  if (latency_.size() >= kMaxSeries && !latency_.contains(route)) route = kOther;
  const KeyView key{method, route, status};
  auto count = counts_.find(key);
  if (count == counts_.end()) count = counts_.emplace(Key{std::string(method), std::string(route), status}, 0).first;
  ++count->second;
  auto latency = latency_.find(route);
  if (latency == latency_.end()) latency = latency_.emplace(std::string(route), Latency{}).first;
  Latency& l = latency->second;
  std::size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  ++l.buckets[i];
  l.sum += seconds;
  ++l.count;
}

std::string RequestMetrics::render(const EventLog& store, const ReadModel& model) const {
  std::string out;
  auto it = std::back_inserter(out);
  {
    std::lock_guard lock(mutex_);
    out += "# HELP tokenledger_http_requests_total Requests answered, by method, route and status.\n";
    out += "# TYPE tokenledger_http_requests_total counter\n";
    for (const auto& [key, n] : counts_) {
      fmt::format_to(it, "tokenledger_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n", key.method,
                     key.route, key.status, n);
    }
    out += "# HELP tokenledger_http_request_duration_seconds Time from request read to response ready.\n";
    out += "# TYPE tokenledger_http_request_duration_seconds histogram\n";
    for (const auto& [route, l] : latency_) {
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < l.buckets.size(); ++i) {
        cumulative += l.buckets[i];
        const std::string le = i < kBounds.size() ? fmt::format("{}", kBounds[i]) : "+Inf";
        fmt::format_to(it, "tokenledger_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", route, le,
                       cumulative);
      }
      fmt::format_to(it, "tokenledger_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route, l.sum);
      fmt::format_to(it, "tokenledger_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route, l.count);
    }
  }
  const StoreStats s = store.stats();
  const std::uint64_t head = store.head().seq;
  out += "# HELP tokenledger_events_appended_total Events made durable since start.\n";
  out += "# TYPE tokenledger_events_appended_total counter\n";
  fmt::format_to(it, "tokenledger_events_appended_total {}\n", s.events);
  out += "# TYPE tokenledger_append_failed_batches_total counter\n";
  fmt::format_to(it, "tokenledger_append_failed_batches_total {}\n", s.failed_batches);
  out += "# TYPE tokenledger_append_conflicts_total counter\n";
  fmt::format_to(it, "tokenledger_append_conflicts_total {}\n", s.conflicts);
  out += "# HELP tokenledger_append_batch_events Events per group-committed batch.\n";
  out += "# TYPE tokenledger_append_batch_events histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < s.batch_size_buckets.size(); ++i) {
    cumulative += s.batch_size_buckets[i];
    const std::string le = i < kBatchSizeBounds.size() ? std::to_string(kBatchSizeBounds[i]) : "+Inf";
    fmt::format_to(it, "tokenledger_append_batch_events_bucket{{le=\"{}\"}} {}\n", le, cumulative);
  }
  fmt::format_to(it, "tokenledger_append_batch_events_sum {}\n", s.events);
  fmt::format_to(it, "tokenledger_append_batch_events_count {}\n", s.batches);
  out += "# HELP tokenledger_append_fsync_seconds Duration of each synced batch write.\n";
  out += "# TYPE tokenledger_append_fsync_seconds histogram\n";
  cumulative = 0;
  for (std::size_t i = 0; i < s.write_latency_buckets.size(); ++i) {
    cumulative += s.write_latency_buckets[i];
    const std::string le =
        i < kWriteLatencyBoundsMs.size() ? fmt::format("{}", kWriteLatencyBoundsMs[i] / 1000.0) : "+Inf";
    fmt::format_to(it, "tokenledger_append_fsync_seconds_bucket{{le=\"{}\"}} {}\n", le, cumulative);
  }
  fmt::format_to(it, "tokenledger_append_fsync_seconds_sum {}\n", s.write_seconds);
  fmt::format_to(it, "tokenledger_append_fsync_seconds_count {}\n", s.batches);
  out += "# HELP tokenledger_log_head_seq The seq of the last durable event.\n# TYPE tokenledger_log_head_seq gauge\n";
  fmt::format_to(it, "tokenledger_log_head_seq {}\n", head);
  out += "# HELP tokenledger_projection_lag_events Events in the log not yet folded into the projections.\n";
  out += "# TYPE tokenledger_projection_lag_events gauge\n";
  fmt::format_to(it, "tokenledger_projection_lag_events {}\n", head - model.folded_seq());
  out += "# TYPE tokenledger_projection_checkpoint_seq gauge\n";
  fmt::format_to(it, "tokenledger_projection_checkpoint_seq {}\n", model.checkpoint_seq());
  if (const auto lag = store.follow_lag()) {
    // The PostgreSQL log, which other nodes append to too (issue 19).
    out += "# HELP tokenledger_follower_lag_events Events in the shared log this node has not folded yet.\n";
    out += "# TYPE tokenledger_follower_lag_events gauge\n";
    fmt::format_to(it, "tokenledger_follower_lag_events {}\n", lag->events);
    out += "# HELP tokenledger_follower_lag_seconds How long this node has been behind the shared log (0: not).\n";
    out += "# TYPE tokenledger_follower_lag_seconds gauge\n";
    fmt::format_to(it, "tokenledger_follower_lag_seconds {}\n", lag->seconds);
    out +=
        "# HELP tokenledger_runs_singletons 1 on the node that signs checkpoints, scrubs and sends expiry notices.\n";
    out += "# TYPE tokenledger_runs_singletons gauge\n";
    fmt::format_to(it, "tokenledger_runs_singletons {}\n", store.runs_singletons() ? 1 : 0);
  }
  out += "# HELP tokenledger_tokens_live Tokens neither deleted nor forgotten (expired ones included).\n";
  out += "# TYPE tokenledger_tokens_live gauge\n";
  fmt::format_to(it, "tokenledger_tokens_live {}\n", model.tokens().size());
  out += build_info_series();
  return out;
}

}  // namespace tl
