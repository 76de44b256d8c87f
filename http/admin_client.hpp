// A small blocking HTTP/1.1 client for tokenledger-admin's calls to a running server (`backup
// --server URL`): one request per connection, http:// or https:// (TLS 1.2+, the peer's
// certificate verified against the system's CAs or a given CA file, and its name or IP address
// checked, RFC 6125). It lives in http/ because Beast may only be included here; this header
// names no Beast or Asio type, so the admin tool links it without them.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/result.hpp"

namespace tl {

struct ServerUrl {
  bool https = false;
  std::string host;         // as in the URL, without brackets
  std::string port;         // "80" / "443" when the URL has none
  std::string host_header;  // host[:port] as the URL spells it
  std::string base_path;    // the URL's path without a trailing '/', "" for none
};

// Parses "http://host[:port][/path]" or "https://…". Errors: invalid_field naming --server and
// what is wrong (another scheme, no host, a query or fragment).
Result<ServerUrl> parse_server_url(std::string_view url);

struct ClientResponse {
  int status = 0;
  std::string body;
  std::vector<std::string> set_cookies;  // every Set-Cookie header, as sent
  std::string location;
};

using ClientHeaders = std::vector<std::pair<std::string, std::string>>;

// Sends `method` `path` (appended to the URL's base path) with `body` (sent as application/json
// when not empty) and `headers`, and reads the whole answer. `timeout` bounds the whole exchange.
// `ca_file`: PEM certificates to trust for https instead of the system's. Errors: unavailable
// naming the server and the cause (cannot connect, TLS or certificate failure, timeout, a
// malformed answer).
Result<ClientResponse> send_request(const ServerUrl& server, std::string_view method, std::string_view path,
                                    std::string body, const ClientHeaders& headers, const std::string& ca_file,
                                    std::chrono::seconds timeout);

}  // namespace tl
