#include "http/metrics.hpp"

#include <fmt/format.h>

#include "eventstore/event_store.hpp"
#include "projections/read_model.hpp"

namespace tl {

void RequestMetrics::record(std::string_view method, std::string_view route, unsigned status, double seconds) {
  std::lock_guard lock(mutex_);
  ++counts_[{std::string(method), std::string(route), status}];
  Latency& l = latency_[std::string(route)];
  std::size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  ++l.buckets[i];
  l.sum += seconds;
  ++l.count;
}

std::string RequestMetrics::render(const EventStore& store, const ReadModel& model) const {
  std::string out;
  auto it = std::back_inserter(out);
  {
    std::lock_guard lock(mutex_);
    out += "# HELP tokenledger_http_requests_total Requests answered, by method, route and status.\n";
    out += "# TYPE tokenledger_http_requests_total counter\n";
    for (const auto& [key, n] : counts_) {
      const auto& [method, route, status] = key;
      fmt::format_to(it, "tokenledger_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n", method,
                     route, status, n);
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
    const std::string le = i + 1 < s.batch_size_buckets.size() ? std::to_string(1u << i) : "+Inf";
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
        i + 1 < s.write_latency_buckets.size() ? fmt::format("{}", 0.0005 * static_cast<double>(1u << i)) : "+Inf";
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
  out += "# HELP tokenledger_tokens_live Tokens neither deleted nor forgotten (expired ones included).\n";
  out += "# TYPE tokenledger_tokens_live gauge\n";
  fmt::format_to(it, "tokenledger_tokens_live {}\n", model.tokens().size());
  return out;
}

}  // namespace tl
