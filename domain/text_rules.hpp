// Rules for text that people type and others later read (descriptions, user names).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tl {

// Number of code points, or nullopt when `s` is not valid UTF-8 (overlongs, surrogates and
// values past U+10FFFF are invalid).
std::optional<std::size_t> utf8_length(std::string_view s) noexcept;

// True when `s` holds a C0/C1 control character, DEL, or a bidirectional override that can
// make text read differently from what it is (CVE-2021-42574, "Trojan Source").
bool has_control_characters(std::string_view s) noexcept;

// `s` without leading and trailing white space (ASCII and U+00A0).
std::string_view trim(std::string_view s) noexcept;

}  // namespace tl
