#include "http/request_checks.hpp"

#include <charconv>

namespace tl {

bool has_media_type(const net::Request& req, std::string_view media_type) {
  std::string_view type = req[net::http::field::content_type];
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (type.size() != media_type.size()) return false;
  // ASCII only, without a std::locale per call (boost's iequals builds one; it showed in the
  // introspection profile). Media types are ASCII tokens, so nothing is lost.
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; };
  for (std::size_t i = 0; i < type.size(); ++i) {
    if (lower(type[i]) != lower(media_type[i])) return false;
  }
  return true;
}

Status require_json_body(const Call& call) {
  if (!has_media_type(call.req, "application/json")) {
    return Error{ErrorCode::unsupported_media_type, "Send the body as application/json."};
  }
  return {};
}

Result<std::optional<std::uint64_t>> parse_if_match(const net::Request& req) {
  auto it = req.find(net::http::field::if_match);
  if (it == req.end()) return std::optional<std::uint64_t>{};
  std::string_view v = it->value();
  if (v == "*") return std::optional<std::uint64_t>{};
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  std::uint64_t version = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), version);
  if (ec != std::errc{} || end != v.data() + v.size()) {
    return Error::precondition_failed("If-Match must name a version, like \"4\".");
  }
  return std::optional<std::uint64_t>{version};
}

}  // namespace tl
