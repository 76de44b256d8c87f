// The audit query string, shared by the audit query, its export, the export's manifest and the
// live stream: the filters (token_id, actor, owner, type, since, until, after_seq, head_seq), a seq,
// and the refusal of parameters a route does not take.
#pragma once

#include <array>
#include <initializer_list>
#include <string>
#include <string_view>

#include "domain/result.hpp"
#include "http/call.hpp"
#include "projections/audit_index.hpp"

namespace tl {

// The filter parameters, in the order a manifest echoes them.
inline constexpr std::array<std::string_view, 7> kAuditFilterParams = {"token_id", "actor", "owner",    "type",
                                                                       "since",    "until", "after_seq"};

// invalid_field (400) naming every query parameter not in `accepted` and listing the accepted
// ones, so that a misspelt filter ("user=", "tokenid=") is not silently ignored and the answer
// mistaken for "nothing happened".
Status only_params(const Call& call, std::initializer_list<std::string_view> route_params);

// token_id, actor, owner (case-folded as usernames are: the events on that user's tokens, whoever
// acted), type (one of known_event_types()), since/until (RFC 3339 §5.6, the window
// [since, until), sub-millisecond bounds rounded up), after_seq and, when `with_head`, head_seq
// (seqs from 0 to 2^63-1). invalid_field naming the parameter otherwise. head_seq is not
// checked against the log's head here.
Result<AuditFilter> parse_audit_filter(const Call& call, bool with_head = false);

// The sentence added to a refused time parameter: when `text` holds a space, the '+' of an
// offset was most likely sent unencoded (a URL query reads '+' as a space, RFC 3986 / HTML
// form encoding), so it says to send %2B; otherwise "".
std::string plus_sign_hint(std::string_view text);

// A whole decimal number; invalid_field naming `name` otherwise.
Result<std::uint64_t> parse_count(const std::string& text, std::string_view name);
// A seq: a whole number from 0 to 2^63-1 (an int64 everywhere a seq is stored or read).
Result<std::uint64_t> parse_seq(const std::string& text, std::string_view name);

}  // namespace tl
