// RFC 3339 UTC timestamps with milliseconds, as the API and the log write them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/time.hpp"

namespace tl {

// "2026-11-27T18:04:14.107Z"
std::string format_rfc3339(Timestamp t);
// Accepts "…Z" or a numeric offset, with or without fractional seconds; nullopt otherwise.
std::optional<Timestamp> parse_rfc3339(std::string_view text);
// The current time, truncated to milliseconds. The one clock the service reads.
Timestamp now_ms();

}  // namespace tl
