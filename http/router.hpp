// Routing as a plain function: given the app and a request, find the route, parse the target,
// authenticate (session cookie or API token), authorize, refuse cross-site writes, check the
// query and, where the route takes one, that the body is JSON. Either the answer is known at once
// (404, 405, 401, 403, 400, 415, …) or a handler is to be run. No sockets:
// testable on its own, and the connection code only moves bytes.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/call.hpp"
#include "http/route_table.hpp"

namespace tl {

struct Routed {
  explicit Routed(const net::Request& req) : call(req) {}

  const Route* route = nullptr;
  std::string_view route_name = "unmatched";  // the pattern, for logs and metrics
  bool blocking = false;                      // run on the worker pool, not an I/O thread
  Handler handler = nullptr;
  RouteFlag flags = RouteFlag::none;    // the route's (http/route_table.hpp)
  std::optional<net::Response> answer;  // set when no handler is to run
  Call call;
};

Routed route_request(App& app, const net::Request& req, std::string client_ip, Timestamp now);

// Whether the request's route may write to the log: a method other than GET and HEAD, on a route
// not marked answers_from_memory. On a log other nodes append to, such a request is routed (and
// its caller's rights judged) only once this node has caught up with the log (server.cpp).
bool route_writes(const net::Request& req);

// The credentials of an Authorization header value in the Bearer scheme (RFC 6750 §2.1): the
// scheme matched case-insensitively (RFC 9110 §11.1), then one or more spaces; nullopt for any
// other scheme. The result may be empty (then no credential matches).
std::optional<std::string_view> bearer_credentials(std::string_view authorization);

// For a request that runs long (the audit stream, the export): whether the credential it came
// with would still be let in to a route of `group` ("" = any signed-in user) at `now`: its
// session still stands (asking does not extend it) or its token is still active, and its user
// still exists and is in `group`. Copies what it needs from `call`; callable from any thread
// while `app` lives.
std::function<bool(Timestamp now)> access_recheck(App& app, const Call& call, std::string_view group);

// Every route as (method, pattern), for checking the OpenAPI document against the server.
std::vector<std::pair<std::string, std::string>> route_list();

// Headers every response carries: request id, caching and security headers.
void finish_response(net::Response& res, const Call& call, bool keep_alive);

}  // namespace tl
