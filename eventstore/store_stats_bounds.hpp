// The bucket bounds of the appender's histograms (StoreStats), in one place: the appender sorts
// each batch into them and /metrics names them as the `le` labels, so the two cannot drift.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace tl {

// Inclusive upper bounds of the batch-size histogram, in events per group-committed batch. The
// histogram has one bucket more, for larger batches ("+Inf").
inline constexpr std::array<std::uint64_t, 10> kBatchSizeBounds = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
// Inclusive upper bounds of the synced-write latency histogram, in milliseconds (/metrics shows
// them in seconds). The histogram has one bucket more, for slower writes ("+Inf").
inline constexpr std::array<double, 8> kWriteLatencyBoundsMs = {0.5, 1, 2, 4, 8, 16, 32, 64};

// The bucket of a batch of `events` events: the first bound not below it, or
// kBatchSizeBounds.size() (the "+Inf" bucket).
constexpr std::size_t batch_size_bucket(std::uint64_t events) {
  std::size_t i = 0;
  while (i < kBatchSizeBounds.size() && events > kBatchSizeBounds[i]) ++i;
  return i;
}

// The bucket of a synced write that took `seconds`: the first bound not below it, or
// kWriteLatencyBoundsMs.size() (the "+Inf" bucket).
constexpr std::size_t write_latency_bucket(double seconds) {
  std::size_t i = 0;
  while (i < kWriteLatencyBoundsMs.size() && seconds * 1000.0 > kWriteLatencyBoundsMs[i]) ++i;
  return i;
}

}  // namespace tl
