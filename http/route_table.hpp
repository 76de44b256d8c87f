// The routes the server has: for each, who may call it and what the router checks before its
// handler runs. The routing itself is in http/router.cpp.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "http/call.hpp"

namespace tl {

enum class Access { open, signed_in, group };

// What a request authenticated by an API token (Authorization: Bearer) may do on a route: a
// leaked code must not be its owner's whole account. owner_reads: the owner's safe-method
// requests only (a write route left at this default refuses tokens); manage: only a token with
// the scope tokenledger:manage; never: user administration, sessions, checkpoints. Refusals
// are 403 insufficient_scope (RFC 6750 §3.1).
enum class BearerUse { owner_reads, manage, never };

// What a route asks of the router (and the server) besides access and the query, as bits; a
// route's set is these or'ed together, none = no bit.
enum class RouteFlag : std::uint8_t {
  none = 0,
  // The body must be application/json: else 415 unsupported_media_type, answered once the
  // caller is let in (after authentication, authorization, the cross-site and query checks).
  json_body = 1 << 0,
  // Let through while the user must choose her own password (must_change_password): the change
  // itself, seeing herself and signing out.
  during_password_change = 1 << 1,
  // Cross-site writes are not refused: the caller is a service holding the introspection
  // secret, never a browser riding on a cookie.
  cross_site_allowed = 1 << 2,
  // GET /metrics: a --metrics-listen listener answers it with handle_metrics_listener.
  metrics = 1 << 3,
  // A POST answered from this node's memory, without catching up with the other nodes of a
  // shared log first (introspection: its throughput is each node's own, issue 19).
  answers_from_memory = 1 << 4,
};

constexpr RouteFlag operator|(RouteFlag a, RouteFlag b) {
  return static_cast<RouteFlag>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}

// Whether the set `flags` holds `flag`.
constexpr bool has(RouteFlag flags, RouteFlag flag) {
  return (static_cast<std::uint8_t>(flags) & static_cast<std::uint8_t>(flag)) != 0;
}

// The query of a route that never reads it (the UI's files, the probes): any is ignored.
constexpr std::string_view kQueryNotRead = "*";

struct Route {
  net::http::verb method;
  std::string_view pattern;  // "{}" stands for one path segment
  Access access;
  std::string_view group;
  bool blocking;  // touches the disk or spends CPU on purpose (Argon2id)
  Handler handler;
  // The query parameters the route reads, separated by spaces ("" = none: any is refused), or
  // kQueryNotRead.
  std::string_view query;
  BearerUse bearer = BearerUse::owner_reads;
  RouteFlag flags = RouteFlag::none;
};

// Every route, in the order they are matched (the first whose pattern and method fit).
std::span<const Route> route_table();

}  // namespace tl
