// tokenledger-admin signed in to a running server (backup --server, witness): the password read
// from standard input, the session cookie kept, the server's refusals turned into the tool's
// errors. The HTTP client is http/admin_client (Beast stays in http/).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "http/admin_client.hpp"
#include "tools/cli.hpp"

namespace tl::admin {

class ServerSession {
 public:
  // Reads `user`'s password from standard input (one line, without echo on a terminal) and signs
  // in at `url` (http:// or https://; `ca_file`: PEM certificates to trust instead of the
  // system's). Throws UsageError (a bad URL, no user or password) or Failure (refused: `refused`;
  // the server unreachable: `failed`).
  ServerSession(const std::string& url, const std::string& user, const std::string& ca_file);
  ~ServerSession();  // signs out (best effort)
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // One request with the session; throws Failure when the server cannot be reached.
  ClientResponse send(std::string_view method, std::string_view path, std::string body = {},
                      std::chrono::seconds timeout = std::chrono::seconds(60)) const;

 private:
  ServerUrl server_;
  std::string ca_file_;
  ClientHeaders auth_;
};

// The server's error message of a refusal ({"error":{"code","message"}}), else the status and body.
std::string server_message(const ClientResponse& res);
// The kind of a server's refusal: its answer to these credentials or this request (401, 403, 409,
// 429: refused, as the tool's own refusals), else a failure (503, 5xx, anything unexpected).
ErrorKind refusal(const ClientResponse& res);

}  // namespace tl::admin
