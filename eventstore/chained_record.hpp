// The record an append makes of one event, as both logs' appenders make it (appender.cpp,
// pg_appender.cpp). Private to eventstore/.
#pragma once

#include <cstdint>

#include "domain/result.hpp"
#include "eventstore/codec.hpp"
#include "eventstore/event_log.hpp"

namespace tl {

// `event` as the record after `head` (seq head.seq + 1, prev_hash head.hash) in `request`'s
// stream at `version`, at time `at`, with the request's actor and source (and, for a token event,
// the token and its owner), encoded (raw, hash). Errors: internal when the record would not read
// back as it was given (check_round_trip; `decoder` is the appender's, reused).
Result<Record> chained_record(const AppendRequest& request, Event event, const Head& head, std::uint64_t version,
                              Timestamp at, RecordDecoder& decoder);

}  // namespace tl
