// Where a request was sent, against DNS rebinding: a page of evil.example whose name is made
// to resolve to 127.0.0.1 reaches the server with `Host: evil.example`. Only an IP literal,
// `localhost` or the host of a --public-url is served; the public URLs also give the origins
// a browser page of this server sends (the CSRF check) and say whether the browser sees
// https:// (the cookie's Secure flag and __Host- prefix behind a TLS-terminating proxy).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "domain/result.hpp"

namespace tl {

// A --public-url, reduced to what the checks compare.
struct PublicUrl {
  std::string origin;  // "https://tokens.example.com": lower case, a default port left out (as in Origin)
  std::string host;    // "tokens.example.com" (an IPv6 literal in brackets: "[2001:db8::1]")
  unsigned port = 0;   // as given, else the scheme's (443, 80)
  bool https = false;
};

// "http(s)://host[:port]" with an optional trailing "/"; nothing else (no user, path, query or
// fragment: it names the server, not a page). invalid_field naming --public-url otherwise.
Result<PublicUrl> parse_public_url(std::string_view url);

// How the Host header (RFC 9110 §7.2) named the server.
enum class HostKind {
  local,   // an IP literal (v4, or v6 in brackets) or localhost, any port
  public_  // the host of a --public-url, with its port or none
};

// `values` are the request's Host field lines. Missing, repeated, empty or malformed →
// invalid_field (400); a name other than localhost or a public URL's host (compared
// case-insensitively), or a public host with another port → misdirected_request (421,
// RFC 9110 §15.5.20).
Result<HostKind> check_host(const std::vector<std::string_view>& values, const std::vector<PublicUrl>& public_urls);

}  // namespace tl
