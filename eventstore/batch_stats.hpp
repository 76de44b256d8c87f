// The appender's counters (StoreStats) for one group-committed batch, as both logs' appenders
// (appender.cpp, pg_appender.cpp) count them. Private to eventstore/.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "eventstore/event_log.hpp"

namespace tl {

// Counts the batch's refusals for a version conflict; then, when it had `events` to write, the
// write: failed (!ok), or one more batch of `events` events whose synced write took `seconds`.
void count_batch(StoreStats& stats, bool ok, std::size_t events, double seconds,
                 const std::vector<std::optional<Result<AppendResult>>>& outcomes);

}  // namespace tl
