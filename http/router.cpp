#include "http/router.hpp"

#include <sodium.h>

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cctype>
#include <cstdint>
#include <stdexcept>

#include "domain/text_rules.hpp"
#include "domain/user.hpp"
#include "eventstore/passwords.hpp"
#include "eventstore/token_secrets.hpp"
#include "http/access_notes.hpp"
#include "http/request_checks.hpp"
#include "http/responses.hpp"
#include "http/route_table.hpp"

namespace tl {

namespace {

using net::http::verb;

// The most bytes of a header value (User-Agent, the client address) a record keeps.
constexpr std::size_t kMaxSourceBytes = 512;

// Matches `segments` against `pattern`, collecting the {} segments.
bool match(std::string_view pattern, const std::vector<std::string>& segments, std::vector<std::string>& params) {
  std::vector<std::string> found;
  std::size_t i = 0;
  pattern.remove_prefix(1);
  if (pattern.empty()) return segments.empty() || (segments.size() == 1 && segments[0].empty());
  while (!pattern.empty()) {
    const auto slash = pattern.find('/');
    const auto part = pattern.substr(0, slash);
    if (i >= segments.size()) return false;
    if (part == "{}") {
      if (segments[i].empty()) return false;
      found.push_back(segments[i]);
    } else if (part != segments[i]) {
      return false;
    }
    ++i;
    pattern = slash == std::string_view::npos ? std::string_view{} : pattern.substr(slash + 1);
  }
  if (i != segments.size()) return false;
  params = std::move(found);
  return true;
}

bool is_unsafe(verb method) { return method != verb::get && method != verb::head && method != verb::options; }

// 16 hex digits, unique within the process: a per-thread random start and a counter, mixed by
// splitmix64 (a bijection, so one thread never repeats). An id names a request in the logs and
// the audit trail; it is no secret, so it need not cost a getrandom(2) per request.
std::string new_request_id() {
  thread_local std::uint64_t state = [] {
    std::uint64_t seed = 0;
    if (sodium_init() < 0) throw std::runtime_error("libsodium cannot start");
    randombytes_buf(&seed, sizeof seed);
    return seed;
  }();
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i, z >>= 4) id[static_cast<std::size_t>(i)] = kHex[z & 0xF];
  return id;
}

// The client's own X-Request-Id, kept for correlation beside the server's id (a client may
// send any, so it never names the request in the trail): 1-128 bytes of printable ASCII
// (0x20-0x7E), given once; anything else is dropped ("").
std::string client_request_id_of(const net::Request& req) {
  if (req.count("X-Request-Id") != 1) return {};
  std::string_view given = req["X-Request-Id"];
  const bool usable = !given.empty() && given.size() <= 128 &&
                      std::all_of(given.begin(), given.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
  return usable ? std::string(given) : std::string{};
}

// All field lines of `name` joined by ", " (a list split over lines is the same list).
std::string joined(const net::Request& req, std::string_view name) {
  std::string out;
  const auto [first, last] = req.equal_range(name);
  for (auto it = first; it != last; ++it) out += (out.empty() ? "" : ", ") + std::string(it->value());
  return out;
}

// The audited client address: the peer, or what a --trusted-proxy peer forwarded.
std::string client_ip_of(const HttpSettings& settings, const net::Request& req, const std::string& peer) {
  if (settings.trusted_proxies.empty() || peer.empty()) return peer;
  boost::system::error_code ec;
  const auto address = net::asio::ip::make_address(peer, ec);
  if (ec) return peer;
  std::string ip =
      client_address(address, settings.trusted_proxies, joined(req, "Forwarded"), joined(req, "X-Forwarded-For"));
  // The peer itself (nothing usable forwarded) keeps the socket's spelling, so no `peer` is added.
  return ip == client_address(address, {}, {}, {}) ? peer : ip;
}

std::string cookie_value(std::string_view cookies, std::string_view name) {
  while (!cookies.empty()) {
    const auto semi = cookies.find(';');
    auto pair = cookies.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return std::string(pair.substr(name.size() + 1));
    }
    if (semi == std::string_view::npos) break;
    cookies.remove_prefix(semi + 1);
  }
  return {};
}

// A state-changing request made by a browser from another origin rides on the user's cookie:
// refuse it. Requests without Origin (curl, scripts) cannot be cross-site browser requests.
// The page's origin is one of the --public-url origins, or, when the Host is an IP literal or
// localhost (`host` local), the one the Host names.
bool cross_site(const net::Request& req, const HttpSettings& settings, HostKind host) {
  std::string_view fetch_site = req["Sec-Fetch-Site"];
  if (fetch_site == "cross-site" || fetch_site == "same-site") return true;
  std::string_view origin = req[net::http::field::origin];
  if (origin.empty()) return false;
  for (const PublicUrl& url : settings.public_urls) {
    if (net::beast::iequals(origin, url.origin)) return false;
  }
  if (host != HostKind::local) return true;
  const std::string expected =
      std::string(settings.tls ? "https://" : "http://") + std::string(req[net::http::field::host]);
  return origin != expected;
}

bool accepts(std::string_view accepted, std::string_view name) {
  while (!accepted.empty()) {
    const auto space = accepted.find(' ');
    if (accepted.substr(0, space) == name) return true;
    if (space == std::string_view::npos) break;
    accepted.remove_prefix(space + 1);
  }
  return false;
}

// A client-supplied name quoted for an error message: valid UTF-8, at most 64 bytes, so the
// JSON answer stays valid whatever bytes the query string carried.
std::string quoted(std::string_view name) { return "'" + to_valid_utf8(name, 64) + "'"; }

// The query string of `route`, refused as invalid_field (400) naming the parameter: one the
// route does not read (the answer lists those it does), one given twice (a map keeps only one
// of them: the answer would silently ignore the other) or one without a value (which read as
// "no filter" and answered with everything).
std::optional<Error> check_query(const Route& route, const Call& call, const std::vector<std::string>& repeated) {
  if (route.query == kQueryNotRead) return std::nullopt;
  std::string unknown;
  for (const auto& [name, value] : call.query) {
    if (!accepts(route.query, name)) unknown += (unknown.empty() ? "" : ", ") + quoted(name);
  }
  if (!unknown.empty()) {
    std::string accepted(route.query);
    for (std::size_t at = accepted.find(' '); at != std::string::npos; at = accepted.find(' ', at + 2)) {
      accepted.replace(at, 1, ", ");
    }
    return Error::invalid_field(
        "Unknown query parameter " + unknown +
        (accepted.empty() ? "; this route takes no query parameters." : "; this route accepts " + accepted + "."));
  }
  if (!repeated.empty()) return Error::invalid_field(quoted(repeated.front()) + ": given more than once.");
  for (const auto& [name, value] : call.query) {
    if (value.empty()) return Error::invalid_field(quoted(name) + ": needs a value (or leave the parameter out).");
  }
  return std::nullopt;
}

Error unauthenticated() { return Error::unauthenticated("Sign in, or present an API token as a Bearer token."); }

constexpr std::string_view kManageScope = "tokenledger:manage";

// The scopes an API token carries: the one place the bearer rule reads them. Tokens carry none
// until scopes arrive (API.md, "Additions under way"); then this returns the token's own.
std::vector<std::string> token_scopes(const Introspection& /*token*/) { return {}; }

// Whether `token` may be used on `route` (BearerUse); otherwise insufficient_scope (403).
std::optional<Error> check_bearer_use(const Route& route, const Introspection& token) {
  switch (route.bearer) {
    case BearerUse::owner_reads:
      if (!is_unsafe(route.method)) return std::nullopt;
      break;
    case BearerUse::manage: {
      const auto scopes = token_scopes(token);
      if (std::find(scopes.begin(), scopes.end(), kManageScope) != scopes.end()) return std::nullopt;
      return Error{ErrorCode::insufficient_scope,
                   "An API token needs the scope tokenledger:manage for this; sign in to do it yourself."};
    }
    case BearerUse::never:
      break;
  }
  return Error{ErrorCode::insufficient_scope, "An API token cannot do this; sign in to do it yourself."};
}

// The challenge sent with an insufficient_scope refusal (RFC 6750 §3): the scope is named only
// where a token holding it would be let through.
std::string_view scope_challenge(const Route& route) {
  return route.bearer == BearerUse::manage ? R"(Bearer error="insufficient_scope", scope="tokenledger:manage")"
                                           : R"(Bearer error="insufficient_scope")";
}

// Resolves the caller from an API token or the session cookie; a token is then held to what
// `route` lets tokens do.
std::optional<Error> authenticate(App& app, Call& call, const Route& route) {
  std::string_view auth = call.req[net::http::field::authorization];
  if (!auth.empty()) {
    const auto code = bearer_credentials(auth);
    if (!code) return unauthenticated();
    const Introspection token = app.tokens.introspect(*code, call.now, call.ctx.source.ip);
    if (!token.active) return Error::unauthenticated("The API token is unknown, expired or deleted.");
    call.user = app.users.get(token.owner);
    if (!call.user) return unauthenticated();
    call.ctx.actor = {token.owner, Via::api_token, token.token_id};
    return check_bearer_use(route, token);
  }
  call.session_id = cookie_value(call.req[net::http::field::cookie], app.settings.session_cookie_name());
  if (call.session_id.empty()) return unauthenticated();
  SessionStore::Ended ended;
  auto username = app.sessions.resolve(call.session_id, call.now, &ended);
  if (!username) {
    // Found expired now (the server's sweep had not come to it yet): its end is recorded once.
    if (!ended.username.empty()) {
      note_sessions_ended(app, server_actor(), call.ctx.source, ended.username, 1, ended.reason, call.now);
    }
    return Error::unauthenticated("Your session has ended; sign in again.");
  }
  call.user = app.users.get(*username);
  if (!call.user) return unauthenticated();
  call.ctx.actor = {*username, Via::session, {}};
  return std::nullopt;
}

// Once the route is known: the answer refusing the request, or nullopt to run the handler. In
// this order: authentication (401, or 403 insufficient_scope for a token), a password that must
// be changed first (403), the route's group (403), a cross-site write (403), the query (400),
// a body that is not JSON where the route takes JSON (415).
std::optional<net::Response> refusal(App& app, Call& call, const Route& route, HostKind host,
                                     const std::vector<std::string>& repeated) {
  if (route.access != Access::open) {
    if (auto refused = authenticate(app, call, route)) {
      auto res = error_response(*refused);
      if (refused->code == ErrorCode::insufficient_scope) {
        res.set(net::http::field::www_authenticate, scope_challenge(route));
      }
      return res;
    }
    // An admin-set password (must_change): until she picks her own, the user may only do that,
    // see herself and sign out.
    if (call.user->must_change_password && !has(route.flags, RouteFlag::during_password_change)) {
      return error_response(
          {ErrorCode::password_change_required, "Choose a new password first (PATCH /api/v1/me/password)."});
    }
    if (route.access == Access::group) {
      if (!call.user->in_group(route.group)) {
        return error_response(
            Error::forbidden("You need to be in the " + std::string(route.group) + " group for this."));
      }
      call.ctx.group = route.group;  // judged again by every decision of the command (service/standing.hpp)
    }
  }
  const bool by_token = call.ctx.actor.via == Via::api_token;
  if (is_unsafe(call.req.method()) && !by_token && !has(route.flags, RouteFlag::cross_site_allowed) &&
      cross_site(call.req, app.settings, host)) {
    return error_response({ErrorCode::csrf, "Cross-site requests are refused."});
  }
  if (auto refused = check_query(route, call, repeated)) return error_response(*refused);
  if (has(route.flags, RouteFlag::json_body)) {
    if (auto json = require_json_body(call); !json) return error_response(json.error());
  }
  return std::nullopt;
}

}  // namespace

bool route_writes(const net::Request& req) {
  if (req.method() == net::http::verb::get || req.method() == net::http::verb::head) return false;
  auto target = boost::urls::parse_origin_form(req.target());
  if (!target) return false;
  std::vector<std::string> segments, params;
  for (auto segment : target->segments()) segments.emplace_back(segment);
  for (const Route& route : route_table()) {
    if (route.method == req.method() && match(route.pattern, segments, params)) {
      return !has(route.flags, RouteFlag::answers_from_memory);
    }
  }
  return false;
}

Routed route_request(App& app, const net::Request& req, std::string client_ip, Timestamp now) {
  Routed routed(req);
  Call& call = routed.call;
  call.now = now;
  // Everything of the request that reaches a record enters as valid UTF-8, cut on a code-point
  // boundary: a record the decoder cannot read back would make the whole log unreadable. The
  // addresses go through the same gate although client_address only returns parsed addresses;
  // the client's request id is printable ASCII by client_request_id_of.
  const std::string ip = client_ip_of(app.settings, req, client_ip);
  call.ctx.source = {to_valid_utf8(ip, kMaxSourceBytes),
                     to_valid_utf8(req[net::http::field::user_agent], kMaxSourceBytes), new_request_id(),
                     client_request_id_of(req),
                     ip == client_ip ? std::string{} : to_valid_utf8(client_ip, kMaxSourceBytes)};

  // Before the route is looked for: a misdirected request learns nothing, not even a 404.
  std::vector<std::string_view> hosts;
  for (auto [it, last] = req.equal_range(net::http::field::host); it != last; ++it) hosts.push_back(it->value());
  const auto host = check_host(hosts, app.settings.public_urls);
  if (!host) {
    routed.answer = error_response(host.error());
    return routed;
  }

  auto target = boost::urls::parse_origin_form(req.target());
  if (!target) {
    routed.answer = error_response(Error::invalid_field("The request target is malformed."));
    return routed;
  }
  std::vector<std::string> segments;
  for (auto segment : target->segments()) segments.emplace_back(segment);
  std::vector<std::string> repeated;
  for (auto param : target->params()) {
    // "?" and "&&" hold a parameter without a name or a value: nothing was given.
    if (param.key.empty() && !param.has_value) continue;
    if (!call.query.emplace(param.key, param.value).second) repeated.push_back(param.key);
  }

  bool path_known = false;
  for (const Route& route : route_table()) {
    if (!match(route.pattern, segments, call.params)) continue;
    path_known = true;
    if (route.method == req.method()) {
      routed.route = &route;
      break;
    }
  }
  if (routed.route == nullptr) {
    routed.answer = path_known ? error_response({ErrorCode::method_not_allowed, "That method is not allowed here."})
                               : error_response(Error::not_found("No such resource."));
    return routed;
  }
  const Route& route = *routed.route;
  // User names are looked up case-folded (domain/user.hpp), so sessions and tokens are found by the stored name.
  if (std::string_view(route.pattern).starts_with("/api/v1/users/{}"))
    call.params[0] = canonical_username(call.params[0]);
  routed.route_name = route.pattern;
  routed.blocking = route.blocking;
  routed.handler = route.handler;
  routed.flags = route.flags;

  routed.answer = refusal(app, call, route, *host, repeated);
  return routed;
}

std::optional<std::string_view> bearer_credentials(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() || authorization[kScheme.size()] != ' ') return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return std::nullopt;
  }
  authorization.remove_prefix(kScheme.size());
  while (!authorization.empty() && authorization.front() == ' ') authorization.remove_prefix(1);
  return authorization;
}

std::function<bool(Timestamp)> access_recheck(App& app, const Call& call, std::string_view group) {
  std::string code;
  if (call.ctx.actor.via == Via::api_token) {
    code = std::string(bearer_credentials(call.req[net::http::field::authorization]).value_or(""));
  }
  return [&app, code = std::move(code), session_id = call.session_id, user = call.ctx.actor.user,
          token_id = call.ctx.actor.token_id, ip = call.ctx.source.ip, group = std::string(group)](Timestamp now) {
    if (!token_id.empty()) {
      const Introspection token = app.tokens.introspect(code, now, ip);
      if (!token.active || token.token_id != token_id) return false;
    } else if (!app.sessions.active(session_id, now)) {
      return false;
    }
    const auto current = app.users.get(user);
    return current && (group.empty() || current->in_group(group));
  };
}

std::vector<std::pair<std::string, std::string>> route_list() {
  std::vector<std::pair<std::string, std::string>> routes;
  for (const Route& r : route_table()) {
    routes.emplace_back(std::string(net::http::to_string(r.method)), std::string(r.pattern));
  }
  return routes;
}

void finish_response(net::Response& res, const Call& call, bool keep_alive) {
  using net::http::field;
  res.set(field::server, "tokenledger");
  // The client's id echoed when it sent a usable one (its correlation), else the server's;
  // the server's own always in Tokenledger-Request-Id (the request_id of the trail and log).
  const Source& source = call.ctx.source;
  res.set("X-Request-Id", source.client_request_id.empty() ? source.request_id : source.client_request_id);
  res.set("Tokenledger-Request-Id", source.request_id);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
  if (res.find(field::cache_control) == res.end()) res.set(field::cache_control, "no-store");
  if (res[field::content_type].starts_with("text/html")) {
    res.set("Content-Security-Policy",
            "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'");
  }
  res.keep_alive(keep_alive);
  res.prepare_payload();
}

}  // namespace tl
