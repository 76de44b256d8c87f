#include "http/router.hpp"

#include <sodium.h>

#include <boost/url/parse.hpp>

#include <array>
#include <cstdint>
#include <stdexcept>

#include "domain/text_rules.hpp"
#include "eventstore/passwords.hpp"
#include "eventstore/token_secrets.hpp"
#include "http/responses.hpp"

namespace tl {

enum class Access { open, signed_in, group };

struct Route {
  net::http::verb method;
  std::string_view pattern;  // "{}" stands for one path segment
  Access access;
  std::string_view group;
  bool blocking;  // touches the disk or spends CPU on purpose (Argon2id)
  Handler handler;
  // The query parameters the route reads, separated by spaces ("" = none: any is refused), or
  // kQueryNotRead for the UI's files and the probes, which never read it and ignore it.
  std::string_view query;
};

namespace {

using net::http::verb;

constexpr std::string_view kApiTokens = kGroupApiTokens;
constexpr std::string_view kAuditors = kGroupAuditors;
constexpr std::string_view kAdmins = kGroupAdmins;
// The most bytes of a header value (User-Agent, the client address) a record keeps.
constexpr std::size_t kMaxSourceBytes = 512;
constexpr std::string_view kQueryNotRead = "*";
constexpr std::string_view kAuditQuery = "token_id actor type since until after_seq limit";
constexpr std::string_view kExportQuery = "token_id actor type since until after_seq head_seq format";
constexpr std::string_view kManifestQuery = "token_id actor type since until after_seq head_seq";
constexpr std::string_view kStreamQuery = "token_id actor type since until after_seq";
constexpr std::string_view kTokensQuery = "owner as_of expiring_within";

// clang-format off
constexpr std::array kRoutes = {
    Route{verb::get,    "/healthz",                        Access::open,      {},         false, handle_healthz, kQueryNotRead},
    Route{verb::get,    "/readyz",                         Access::open,      {},         false, handle_readyz, kQueryNotRead},
    Route{verb::get,    "/api/v1/openapi.json",            Access::open,      {},         false, handle_openapi, kQueryNotRead},
    Route{verb::get,    "/metrics",                        Access::open,      {},         false, handle_metrics, kQueryNotRead},
    Route{verb::get,    "/",                               Access::open,      {},         false, handle_web_asset, kQueryNotRead},
    Route{verb::get,    "/{}",                             Access::open,      {},         false, handle_web_asset, kQueryNotRead},
    Route{verb::post,   "/api/v1/session",                 Access::open,      {},         true, handle_login, {}},
    Route{verb::delete_, "/api/v1/session",                Access::signed_in, {},         false, handle_logout, {}},
    Route{verb::post,   "/api/v1/session/reauth",          Access::signed_in, {},         true, handle_reauth, {}},
    Route{verb::get,    "/api/v1/me",                      Access::signed_in, {},         false, handle_me, {}},
    Route{verb::patch,  "/api/v1/me/password",             Access::signed_in, {},         true, handle_change_password, {}},
    Route{verb::get,    "/api/v1/users",                   Access::group,     kAdmins,    false, handle_list_users, {}},
    Route{verb::post,   "/api/v1/users",                   Access::group,     kAdmins,    true, handle_create_user, {}},
    Route{verb::patch,  "/api/v1/users/{}",                Access::group,     kAdmins,    true, handle_patch_user, {}},
    Route{verb::delete_, "/api/v1/users/{}",               Access::group,     kAdmins,    true, handle_delete_user, {}},
    Route{verb::post,   "/api/v1/users/{}/revoke-tokens",  Access::group,     kAdmins,    true, handle_revoke_user_tokens, {}},
    Route{verb::get,    "/api/v1/tokens",                  Access::signed_in, {},         true, handle_list_tokens, kTokensQuery},
    Route{verb::post,   "/api/v1/tokens",                  Access::group,     kApiTokens, true, handle_create_token, {}},
    Route{verb::get,    "/api/v1/tokens/{}",               Access::group,     kApiTokens, false, handle_get_token, {}},
    Route{verb::patch,  "/api/v1/tokens/{}",               Access::group,     kApiTokens, true, handle_update_token, {}},
    Route{verb::delete_, "/api/v1/tokens/{}",              Access::group,     kApiTokens, true, handle_delete_token, {}},
    Route{verb::post,   "/api/v1/tokens/{}/reveal",        Access::group,     kApiTokens, false, handle_reveal_token, {}},
    Route{verb::get,    "/api/v1/tokens/{}/history",       Access::group,     kApiTokens, true, handle_token_history, {}},
    Route{verb::post,   "/api/v1/introspect",              Access::open,      {},         false, handle_introspect, {}},
    Route{verb::get,    "/api/v1/audit",                   Access::group,     kAuditors,  true, handle_audit_query, kAuditQuery},
    Route{verb::get,    "/api/v1/audit/verify",            Access::group,     kAuditors,  true, handle_audit_verify, {}},
    Route{verb::get,    "/api/v1/audit/checkpoints",       Access::group,     kAuditors,  true, handle_list_checkpoints, {}},
    Route{verb::post,   "/api/v1/audit/checkpoints",       Access::group,     kAuditors,  true, handle_create_checkpoint, {}},
    Route{verb::get,    "/api/v1/audit/export",            Access::group,     kAuditors,  true, handle_audit_export, kExportQuery},
    Route{verb::get,    "/api/v1/audit/export/manifest",   Access::group,     kAuditors,  true, handle_audit_export_manifest, kManifestQuery},
    Route{verb::get,    "/api/v1/audit/stream",            Access::group,     kAuditors,  true, handle_audit_stream, kStreamQuery},
};
// clang-format on

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

std::string request_id_of(const net::Request& req) {
  std::string_view given = req["X-Request-Id"];
  const bool usable = !given.empty() && given.size() <= 64 &&
                      std::all_of(given.begin(), given.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
                      });
  return usable ? std::string(given) : new_request_id();
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
bool cross_site(const net::Request& req, bool tls) {
  std::string_view fetch_site = req["Sec-Fetch-Site"];
  if (fetch_site == "cross-site" || fetch_site == "same-site") return true;
  std::string_view origin = req[net::http::field::origin];
  if (origin.empty()) return false;
  const std::string expected = std::string(tls ? "https://" : "http://") + std::string(req[net::http::field::host]);
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
    return Error::invalid_field("Unknown query parameter " + unknown +
                                (accepted.empty() ? "; this route takes no query parameters."
                                                  : "; this route accepts " + accepted + "."));
  }
  if (!repeated.empty()) return Error::invalid_field(quoted(repeated.front()) + ": given more than once.");
  for (const auto& [name, value] : call.query) {
    if (value.empty()) return Error::invalid_field(quoted(name) + ": needs a value (or leave the parameter out).");
  }
  return std::nullopt;
}

Error unauthenticated() { return Error::unauthenticated("Sign in, or present an API token as a Bearer token."); }

// Resolves the caller from an API token or the session cookie.
std::optional<Error> authenticate(App& app, Call& call) {
  std::string_view auth = call.req[net::http::field::authorization];
  if (!auth.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (!auth.starts_with(kBearer)) return unauthenticated();
    const Introspection token = app.tokens.introspect(auth.substr(kBearer.size()), call.now, call.ctx.source.ip);
    if (!token.active) return Error::unauthenticated("The API token is unknown, expired or deleted.");
    call.user = app.users.get(token.owner);
    if (!call.user) return unauthenticated();
    call.ctx.actor = {token.owner, "api_token", token.token_id};
    return std::nullopt;
  }
  call.session_id = cookie_value(call.req[net::http::field::cookie], "tl_session");
  if (call.session_id.empty()) return unauthenticated();
  auto username = app.sessions.resolve(call.session_id, call.now);
  if (!username) return Error::unauthenticated("Your session has ended; sign in again.");
  call.user = app.users.get(*username);
  if (!call.user) return unauthenticated();
  call.ctx.actor = {*username, "session", {}};
  return std::nullopt;
}

}  // namespace

Routed route_request(App& app, const net::Request& req, std::string client_ip, Timestamp now) {
  Routed routed(req);
  Call& call = routed.call;
  call.now = now;
  // Everything of the request that reaches a record enters as valid UTF-8, cut on a code-point
  // boundary: a record the decoder cannot read back would make the whole log unreadable. The
  // address is the socket's (ASCII today) and goes through the same gate, so no later change of
  // where it comes from (a proxy header) can bypass it; the request id is restricted to
  // [A-Za-z0-9._-]{1,64} by request_id_of.
  call.ctx.source = {to_valid_utf8(client_ip, kMaxSourceBytes),
                     to_valid_utf8(req[net::http::field::user_agent], kMaxSourceBytes), request_id_of(req)};

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
  for (const Route& route : kRoutes) {
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
  routed.route_name = route.pattern;
  routed.blocking = route.blocking;
  routed.handler = route.handler;

  if (route.access != Access::open) {
    if (auto refused = authenticate(app, call)) {
      routed.answer = error_response(*refused);
      return routed;
    }
    // An admin-set password (must_change): until she picks her own, the user may only do that,
    // see herself and sign out.
    if (call.user->must_change_password && route.handler != handle_change_password && route.handler != handle_me &&
        route.handler != handle_logout) {
      routed.answer = error_response({ErrorCode::password_change_required,
                                      "Choose a new password first (PATCH /api/v1/me/password)."});
      return routed;
    }
    if (route.access == Access::group && !call.user->in_group(route.group)) {
      routed.answer = error_response(Error::forbidden("You need to be in the " + std::string(route.group) +
                                                      " group for this."));
      return routed;
    }
  }
  const bool by_token = call.ctx.actor.via == "api_token";
  if (is_unsafe(req.method()) && !by_token && route.handler != handle_introspect &&
      cross_site(req, app.settings.tls)) {
    routed.answer = error_response({ErrorCode::csrf, "Cross-site requests are refused."});
    return routed;
  }
  if (auto refused = check_query(route, call, repeated)) routed.answer = error_response(*refused);
  return routed;
}

std::vector<std::pair<std::string, std::string>> route_list() {
  std::vector<std::pair<std::string, std::string>> routes;
  for (const Route& r : kRoutes) routes.emplace_back(std::string(net::http::to_string(r.method)), std::string(r.pattern));
  return routes;
}

void finish_response(net::Response& res, const Call& call, bool keep_alive) {
  using net::http::field;
  res.set(field::server, "tokenledger");
  res.set("X-Request-Id", call.ctx.source.request_id);
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
