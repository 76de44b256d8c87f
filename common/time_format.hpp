// RFC 3339 UTC timestamps with milliseconds, as the API and the log write them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/time.hpp"

namespace tl {

// "2026-11-27T18:04:14.107Z"
std::string format_rfc3339(Timestamp t);
// An RFC 3339 instant at full precision, in the millisecond grid of Timestamp: `floor` is the
// millisecond it falls in, `sub_ms` says whether digits below the millisecond were non-zero.
// A bound keeps the meaning full precision gives it when compared with millisecond record times:
//   at <= T  (a point in time, as_of / replay --until)  <=>  at <= floor
//   at >= T  (a window's inclusive since)               <=>  at >= ceil()
//   at <  T  (a window's exclusive until)               <=>  at <  ceil()
struct PreciseTime {
  Timestamp floor;
  bool sub_ms = false;
  Timestamp ceil() const { return sub_ms ? floor + std::chrono::milliseconds{1} : floor; }
};

// RFC 3339 §5.6 date-time: "2026-11-27T18:04:14Z", "2026-11-27t20:04:14.1070001+02:00"; "T"/"Z" in
// either case, any number of fraction digits, offsets -23:59 to +23:59 (minutes 00-59). A leap
// second (":60"), a missing zone or anything else is nullopt: never silently shifted.
std::optional<PreciseTime> parse_rfc3339_precise(std::string_view text);
// The same, floored to the millisecond (what a record's own "at" needs, and a point in time).
std::optional<Timestamp> parse_rfc3339(std::string_view text);
// The current time, truncated to milliseconds. The one clock the service reads.
Timestamp now_ms();

}  // namespace tl
