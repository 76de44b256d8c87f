// The check of records imported from another log (EventLog::import_records), the same for both
// logs. Private to eventstore/.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "domain/result.hpp"
#include "eventstore/event_log.hpp"

namespace tl {

// `raws` decoded, each checked (its hash; seq and prev_hash following `head`, then each other).
// Errors: invalid_field naming the first record that does not check or follow.
Result<std::vector<Record>> check_imported(std::span<const std::string> raws, const Head& head);

}  // namespace tl
