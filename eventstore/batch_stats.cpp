#include "eventstore/batch_stats.hpp"

#include "eventstore/store_stats_bounds.hpp"

namespace tl {

// StoreStats' histograms have one bucket per bound of store_stats_bounds.hpp, and "+Inf".
static_assert(std::tuple_size_v<decltype(StoreStats::batch_size_buckets)> == kBatchSizeBounds.size() + 1);
static_assert(std::tuple_size_v<decltype(StoreStats::write_latency_buckets)> == kWriteLatencyBoundsMs.size() + 1);

void count_batch(StoreStats& stats, bool ok, std::size_t events, double seconds,
                 const std::vector<std::optional<Result<AppendResult>>>& outcomes) {
  for (const auto& outcome : outcomes) {
    if (outcome && !outcome->ok() && outcome->error().code == ErrorCode::version_conflict) ++stats.conflicts;
  }
  if (events == 0) return;  // nothing was written
  if (!ok) {
    ++stats.failed_batches;
    return;
  }
  ++stats.batches;
  stats.events += events;
  stats.write_seconds += seconds;
  ++stats.batch_size_buckets[batch_size_bucket(events)];
  ++stats.write_latency_buckets[write_latency_bucket(seconds)];
}

}  // namespace tl
