// Small checks shared by handlers.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "domain/result.hpp"
#include "http/call.hpp"

namespace tl {

// 415 unless the request says its body is JSON.
Status require_json_body(const Call& call);
// True when the Content-Type's media type (before any ';', trailing spaces dropped) is `media_type`,
// compared ASCII case-insensitively; parameters are ignored.
bool has_media_type(const net::Request& req, std::string_view media_type);
// If-Match as a version: "4", 4 or *; nullopt when absent or *; precondition_failed when malformed.
Result<std::optional<std::uint64_t>> parse_if_match(const net::Request& req);

}  // namespace tl
