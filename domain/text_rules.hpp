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

// `s` as valid UTF-8 of at most `max_bytes` bytes: every byte that does not begin a well-formed
// sequence (RFC 3629 §3: no overlongs, surrogates or values past U+10FFFF) becomes U+FFFD, and a cut
// falls on a code-point boundary, never inside a character. For text that enters the log from
// outside (headers, OS account names), so that every record holds only what its decoder reads back.
std::string to_valid_utf8(std::string_view s, std::size_t max_bytes = std::string_view::npos);

// True when `s` holds a C0/C1 control character, DEL, or a bidirectional override that can
// make text read differently from what it is (CVE-2021-42574, "Trojan Source").
bool has_control_characters(std::string_view s) noexcept;

// `s` without leading and trailing white space (ASCII and U+00A0).
std::string_view trim(std::string_view s) noexcept;

}  // namespace tl
