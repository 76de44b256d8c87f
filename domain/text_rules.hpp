// Rules for text that people type and others later read (descriptions, user names).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "domain/result.hpp"

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

// `s` without leading and trailing white space: every code point with the Unicode White_Space
// property (UAX #44; e.g. TAB, LF, U+00A0, U+2003, U+3000).
std::string_view trim(std::string_view s) noexcept;

// The one rule for a one-line field a person types and others later read (token descriptions,
// revoke reasons, user names; issue 12): valid UTF-8, NFC-normalized (UAX #15), trimmed as `trim`
// does, at most `max_code_points` code points after that. Refused with invalid_field, the message
// naming `field` and, for a bad character, its code point and name ("description: holds U+200B
// ZERO WIDTH SPACE (an invisible character)"), when the text is blank (`if_blank` is then the
// message's tail) or holds a control character (Unicode category Cc: NUL, TAB, CR, LF, ESC …; a
// one-line field has no use for any), a line or paragraph separator (U+2028, U+2029), a bidi
// control (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069; CVE-2021-42574) or another
// Default_Ignorable_Code_Point (U+00AD, U+200B–U+200D, U+2060, U+FEFF, …). Variation selectors
// U+FE0E/U+FE0F are kept right after a symbol (an emoji's text or colour form), refused elsewhere.
Result<std::string> normalize_line(std::string_view raw, std::string_view field, std::size_t max_code_points,
                                   std::string_view if_blank);

// `s` (valid UTF-8) NFC-normalized and case-folded (Unicode full case folding, as utf8proc's
// UTF8PROC_CASEFOLD): the form two user names are compared in ("Alice" and "ALICE" are one name).
std::string fold_case(std::string_view s);

}  // namespace tl
