#include "eventstore/time_format.hpp"

#include <date/date.h>

#include <sstream>

namespace tl {

std::string format_rfc3339(Timestamp t) { return date::format("%FT%TZ", t); }

std::optional<Timestamp> parse_rfc3339(std::string_view text) {
  if (text.size() < 20 || text.size() > 40) return std::nullopt;
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
