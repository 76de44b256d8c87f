#include "domain/text_rules.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace tl {
namespace {

// Decodes one code point at s[i], advancing i; returns -1 on invalid UTF-8.
std::int32_t next_code_point(std::string_view s, std::size_t& i) noexcept {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  std::size_t len = 0;
  std::uint32_t cp = 0;
  std::uint32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (i + len > s.size()) return -1;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  i += len;
  return static_cast<std::int32_t>(cp);
}

bool is_control(std::int32_t cp) noexcept {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

// The White_Space property (Unicode PropList.txt); a fixed list, unchanged since Unicode 6.3.
bool is_white_space(std::int32_t cp) noexcept {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Bidi_Control (PropList.txt): marks, embeddings, overrides and isolates.
bool is_bidi_control(std::int32_t cp) noexcept {
  return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

// Why `cp` (after `previous`) has no place in a one-line field, or nullptr when it has.
const char* refusal_kind(std::int32_t cp, std::int32_t previous) noexcept {
  if (utf8proc_category(cp) == UTF8PROC_CATEGORY_CC) return "a control character";
  if (cp == 0x2028 || cp == 0x2029) return "a line break";
  if (is_bidi_control(cp)) return "a bidirectional control";
  const bool variation_selector = cp == 0xFE0E || cp == 0xFE0F;
  if (variation_selector && previous >= 0 && utf8proc_category(previous) == UTF8PROC_CATEGORY_SO) return nullptr;
  if (utf8proc_get_property(cp)->ignorable) return "an invisible character";
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_CF:
      return "an invisible format character";
    case UTF8PROC_CATEGORY_CO:
      return "a private-use character";
    case UTF8PROC_CATEGORY_CN:
      return "an unassigned code point";
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
      // A mark combines with the character before it; first in the text it stands alone.
      if (previous < 0) return "a combining mark with nothing to combine with";
      break;
    default:
      break;
  }
  return nullptr;
}

// U+2800 BRAILLE PATTERN BLANK draws nothing yet is no white space: text of it alone looks blank.
constexpr std::int32_t kBrailleBlank = 0x2800;

// "U+200B ZERO WIDTH SPACE": the names of the characters people paste by accident; others go by
// their number alone (utf8proc carries no names).
std::string describe_code_point(std::int32_t cp) {
  static constexpr std::array<std::pair<std::int32_t, const char*>, 20> kNames{{
      {0x00, "NULL"},
      {0x09, "CHARACTER TABULATION"},
      {0x0A, "LINE FEED"},
      {0x0D, "CARRIAGE RETURN"},
      {0x1B, "ESCAPE"},
      {0x7F, "DELETE"},
      {0xAD, "SOFT HYPHEN"},
      {0x061C, "ARABIC LETTER MARK"},
      {0x200B, "ZERO WIDTH SPACE"},
      {0x200C, "ZERO WIDTH NON-JOINER"},
      {0x200D, "ZERO WIDTH JOINER"},
      {0x200E, "LEFT-TO-RIGHT MARK"},
      {0x200F, "RIGHT-TO-LEFT MARK"},
      {0x2028, "LINE SEPARATOR"},
      {0x202A, "LEFT-TO-RIGHT EMBEDDING"},
      {0x202E, "RIGHT-TO-LEFT OVERRIDE"},
      {0x2060, "WORD JOINER"},
      {0x2066, "LEFT-TO-RIGHT ISOLATE"},
      {0x2067, "RIGHT-TO-LEFT ISOLATE"},
      {0xFEFF, "ZERO WIDTH NO-BREAK SPACE"},
  }};
  char number[16];
  std::snprintf(number, sizeof number, "U+%04X", static_cast<unsigned>(cp));
  std::string out(number);
  for (const auto& [code, name] : kNames) {
    if (code == cp) return out + " " + name;
  }
  return out;
}

// utf8proc_map over valid UTF-8 with `options`; nullopt when utf8proc refuses the input.
std::optional<std::string> utf8proc_transform(std::string_view s, int options) {
  utf8proc_uint8_t* mapped = nullptr;
  const auto n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()),
                   &mapped, static_cast<utf8proc_option_t>(options));
  if (n < 0) return std::nullopt;
  const std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(mapped, &std::free);
  return std::string(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(n));
}

}  // namespace

std::optional<std::size_t> utf8_length(std::string_view s) noexcept {
  std::size_t count = 0;
  for (std::size_t i = 0; i < s.size(); ++count) {
    if (next_code_point(s, i) < 0) return std::nullopt;
  }
  return count;
}

std::string to_valid_utf8(std::string_view s, std::size_t max_bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  std::string out;
  out.reserve(std::min(s.size(), max_bytes));
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t start = i;
    const bool valid = next_code_point(s, i) >= 0;
    const std::string_view piece = valid ? s.substr(start, i - start) : kReplacement;
    if (!valid) i = start + 1;
    if (out.size() + piece.size() > max_bytes) break;
    out.append(piece);
  }
  return out;
}

bool has_control_characters(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    const auto cp = next_code_point(s, i);
    if (cp < 0) return false;  // not UTF-8 at all: utf8_length reports that
    if (is_control(cp)) return true;
  }
  return false;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty()) {
    std::size_t i = 0;
    if (!is_white_space(next_code_point(s, i))) break;
    s.remove_prefix(i);
  }
  while (!s.empty()) {
    // The last code point starts at the last byte that is not a continuation byte.
    std::size_t start = s.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    std::size_t i = start;
    if (!is_white_space(next_code_point(s, i)) || i != s.size()) break;
    s.remove_suffix(s.size() - start);
  }
  return s;
}

Result<std::string> normalize_line(std::string_view raw, std::string_view field, std::size_t max_code_points,
                                   std::string_view if_blank) {
  const std::string name(field);
  if (!utf8_length(raw)) return Error::invalid_field(name + ": must be valid UTF-8.");
  auto nfc = utf8proc_transform(raw, UTF8PROC_STABLE | UTF8PROC_COMPOSE);
  if (!nfc) return Error::invalid_field(name + ": must be valid UTF-8.");
  const std::string_view trimmed = trim(*nfc);
  if (trimmed.empty()) return Error::invalid_field(name + ": " + std::string(if_blank));
  std::int32_t previous = -1;
  std::size_t count = 0;
  bool looks_blank = true;
  for (std::size_t i = 0; i < trimmed.size(); ++count) {
    const std::int32_t cp = next_code_point(trimmed, i);
    if (const char* kind = refusal_kind(cp, previous)) {
      return Error::invalid_field(name + ": holds " + describe_code_point(cp) + " (" + kind + ").");
    }
    looks_blank = looks_blank && (cp == kBrailleBlank || is_white_space(cp));
    previous = cp;
  }
  if (looks_blank) return Error::invalid_field(name + ": " + std::string(if_blank));
  if (count > max_code_points) {
    return Error::invalid_field(name + ": at most " + std::to_string(max_code_points) + " characters.");
  }
  return std::string(trimmed);
}

std::string fold_case(std::string_view s) {
  auto folded = utf8proc_transform(s, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
  return folded ? std::move(*folded) : std::string(s);
}

}  // namespace tl
