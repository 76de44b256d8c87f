#include "eventstore/time_format.hpp"

#include <date/date.h>

#include <sstream>

namespace tl {
namespace {

// Every record carries one timestamp (TokenUsed two), so formatting and parsing sit on the
// append and fold paths: date.h's stream-based format/parse cost ~1-2 us each (callgrind on the
// fold showed parse_rfc3339 as the largest single item). The exact shape this program writes,
// "YYYY-MM-DDTHH:MM:SS.mmmZ", is handled by hand with std::chrono's calendar; anything else
// (offsets, other precisions) still goes through date.h, so accepted inputs do not change.

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

std::optional<Timestamp> parse_fixed(std::string_view s) {
  // "YYYY-MM-DDTHH:MM:SS.mmmZ" or "YYYY-MM-DDTHH:MM:SSZ"
  if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s.back() != 'Z') {
    return std::nullopt;
  }
  int y, mo, d, h, mi, sec, ms = 0;
  if (!digits(s, 0, 4, y) || !digits(s, 5, 2, mo) || !digits(s, 8, 2, d) || !digits(s, 11, 2, h) ||
      !digits(s, 14, 2, mi) || !digits(s, 17, 2, sec)) {
    return std::nullopt;
  }
  if (s.size() == 24 && (s[19] != '.' || !digits(s, 20, 3, ms))) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  return Timestamp{std::chrono::sys_days{ymd}} + std::chrono::hours{h} + std::chrono::minutes{mi} +
         std::chrono::seconds{sec} + std::chrono::milliseconds{ms};
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

std::optional<Timestamp> parse_rfc3339(std::string_view text) {
  if (text.size() < 20 || text.size() > 40) return std::nullopt;
  if (text.size() == 24 || text.size() == 20) {
    if (auto fixed = parse_fixed(text)) return fixed;
  }
  // %Ez accepts "+02:00"; a trailing 'Z' is handled by the first format.
  for (const char* format : {"%FT%TZ", "%FT%T%Ez"}) {
    std::istringstream in{std::string(text)};
    date::sys_time<std::chrono::microseconds> parsed;
    in >> date::parse(format, parsed);
    if (!in.fail() && in.peek() == std::char_traits<char>::eof()) {
      return std::chrono::floor<std::chrono::milliseconds>(parsed);
    }
  }
  return std::nullopt;
}

Timestamp now_ms() {
  return std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

}  // namespace tl
