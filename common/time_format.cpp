#include "common/time_format.hpp"

#include <date/date.h>

namespace tl {
namespace {

// Every record carries one timestamp (TokenUsed two), so formatting and parsing sit on the
// append and fold paths: date.h's stream-based format/parse cost ~1-2 us each (callgrind on the
// fold showed parse_rfc3339 as the largest single item), so both are done by hand with
// std::chrono's calendar. date.h's %Ez also shifted out-of-range offsets ("+99:99", "+00:60")
// instead of refusing them, and its microsecond parse floored finer digits.

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

void put(char* at, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i, value /= 10) at[i] = static_cast<char>('0' + value % 10);
}

}  // namespace

std::string format_rfc3339(Timestamp t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{day};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) return date::format("%FT%TZ", t);
  const auto ms = static_cast<unsigned>((t - day).count());
  std::string out(24, '\0');
  char* p = out.data();
  put(p, static_cast<unsigned>(year), 4);
  p[4] = '-';
  put(p + 5, static_cast<unsigned>(ymd.month()), 2);
  p[7] = '-';
  put(p + 8, static_cast<unsigned>(ymd.day()), 2);
  p[10] = 'T';
  put(p + 11, ms / 3'600'000, 2);
  p[13] = ':';
  put(p + 14, ms / 60'000 % 60, 2);
  p[16] = ':';
  put(p + 17, ms / 1000 % 60, 2);
  p[19] = '.';
  put(p + 20, ms % 1000, 3);
  p[23] = 'Z';
  return out;
}

std::optional<PreciseTime> parse_rfc3339_precise(std::string_view s) {
  // date-time = YYYY-MM-DD "T" HH:MM:SS [ "." 1*DIGIT ] ( "Z" / ("+" / "-") HH:MM ), "T" and "Z"
  // in either case (RFC 3339 §5.6 and its note on case).
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  int y, mo, d, h, mi, sec;
  if (!digits(s, 0, 4, y) || !digits(s, 5, 2, mo) || !digits(s, 8, 2, d) || !digits(s, 11, 2, h) ||
      !digits(s, 14, 2, mi) || !digits(s, 17, 2, sec)) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  // A leap second (":60") cannot be told apart from the next second in milliseconds since the
  // epoch, so it is refused rather than shifted.
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  std::size_t at = 19;
  int ms = 0;
  bool sub_ms = false;
  if (s[at] == '.') {
    const std::size_t first = ++at;
    for (; at < s.size() && s[at] >= '0' && s[at] <= '9'; ++at) {
      const std::size_t place = at - first;
      if (place < 3) {
        ms += (s[at] - '0') * (place == 0 ? 100 : place == 1 ? 10 : 1);
      } else if (s[at] != '0') {
        sub_ms = true;
      }
    }
    if (at == first) return std::nullopt;  // "." needs at least one digit
  }
  std::chrono::minutes offset{0};
  const std::string_view zone = s.substr(at);
  if (zone != "Z" && zone != "z") {
    // time-numoffset: ("+" / "-") time-hour (00-23) ":" time-minute (00-59).
    int oh, om;
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':' || !digits(zone, 1, 2, oh) ||
        !digits(zone, 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = std::chrono::minutes{(zone[0] == '-' ? -1 : 1) * (oh * 60 + om)};
  }
  const Timestamp local = Timestamp{std::chrono::sys_days{ymd}} + std::chrono::hours{h} + std::chrono::minutes{mi} +
                          std::chrono::seconds{sec} + std::chrono::milliseconds{ms};
  return PreciseTime{local - offset, sub_ms};
}

std::optional<Timestamp> parse_rfc3339(std::string_view text) {
  auto t = parse_rfc3339_precise(text);
  if (!t) return std::nullopt;
  return t->floor;
}

Timestamp now_ms() { return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now()); }

}  // namespace tl
