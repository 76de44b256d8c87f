#include "domain/text_rules.hpp"

#include <algorithm>
#include <cstdint>

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
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
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
  auto is_space_at_front = [&](std::string_view t) -> std::size_t {
    if (t.empty()) return 0;
    const char c = t.front();
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') return 1;
    if (t.size() >= 2 && t[0] == '\xC2' && t[1] == '\xA0') return 2;
    return 0;
  };
  auto is_space_at_back = [&](std::string_view t) -> std::size_t {
    if (t.empty()) return 0;
    const char c = t.back();
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') return 1;
    if (t.size() >= 2 && t[t.size() - 2] == '\xC2' && t.back() == '\xA0') return 2;
    return 0;
  };
  while (auto n = is_space_at_front(s)) s.remove_prefix(n);
  while (auto n = is_space_at_back(s)) s.remove_suffix(n);
  return s;
}

}  // namespace tl
