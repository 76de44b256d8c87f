#include "http/access_notes.hpp"

#include <cctype>

#include "domain/text_rules.hpp"
#include "domain/user.hpp"
#include "eventstore/token_secrets.hpp"
#include "service/access_events.hpp"

namespace tl {
namespace {

constexpr std::size_t kMaxTargetBytes = 256;
constexpr std::string_view kTokenRoutes = "/api/v1/tokens/{}";
// The proof routes that show one event: a read of the trail when answered, a refusal when another
// user's event is asked for (404, as for another's token).
constexpr std::string_view kReceiptRoute = "/api/v1/audit/receipts/{}";
constexpr std::string_view kInclusionRoute = "/api/v1/audit/proof/inclusion";

// The `code` of an error answer (responses.hpp writes {"error":{"code":"…",…}}): "" for another body.
std::string error_code_of(const net::Response& res) {
  constexpr std::string_view kKey = R"({"error":{"code":")";
  const std::string& body = res.body();
  if (!body.starts_with(kKey)) return {};
  const auto end = body.find('"', kKey.size());
  return end == std::string::npos ? std::string{} : body.substr(kKey.size(), end - kKey.size());
}

unsigned status_of(const Reply& reply) {
  if (const auto* res = std::get_if<net::Response>(&reply)) return res->result_int();
  if (const auto* streamed = std::get_if<Streamed>(&reply)) return streamed->head.result_int();
  return 0;
}

// `text` with every token code in it (kCodePrefix and what follows of the code's alphabet) cut to
// its prefix: people paste codes where an id or a filter value belongs, and the trail must never
// hold one (auditors see everything but codes).
std::string without_codes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text.substr(i, kCodePrefix.size()) == kCodePrefix) {
      out += kCodePrefix;
      out += "[redacted]";
      i += kCodePrefix.size();
      while (i < text.size() && std::isalnum(static_cast<unsigned char>(text[i]))) ++i;
    } else {
      out += text[i++];
    }
  }
  return out;
}

// Whether the request presented a credential (a Bearer token or the session cookie), so that its
// 401 is a refused access attempt rather than a visitor who is not signed in.
bool presented_credential(const App& app, const Call& call) {
  if (!call.req[net::http::field::authorization].empty()) return true;
  const std::string name = std::string(app.settings.session_cookie_name()) + "=";
  return call.req[net::http::field::cookie].find(name) != std::string_view::npos;
}

void note_denied(App& app, const Routed& routed, const net::Response& res) {
  const Call& call = routed.call;
  std::string_view path = call.req.target();
  path = path.substr(0, path.find('?'));  // the query may carry anything; the path names the resource
  AccessDenied denial{.method = std::string(call.req.method_string()),
                      .route = std::string(routed.route_name),
                      .target = to_valid_utf8(without_codes(path), kMaxTargetBytes),
                      .status = static_cast<int>(res.result_int()),
                      .code = error_code_of(res)};
  Actor actor = call.ctx.actor;
  if (!call.user) {  // a 401: the credential named nobody who may act
    const bool bearer = !call.req[net::http::field::authorization].empty();
    actor = {{}, bearer ? Via::api_token : Via::session, {}};
  }
  app.access->denied(std::move(denial), actor, call.ctx.source, call.now);
}

void note_audit_read(App& app, const Routed& routed) {
  const Call& call = routed.call;
  std::string filters = without_codes(canonical_filters(call.query));
  if (routed.route_name == kReceiptRoute && !call.params.empty()) {
    filters = "seq=" + to_valid_utf8(call.params[0], 24);
  }
  Event read;
  if (routed.route_name == "/api/v1/audit/export") {
    const std::string* format = call.query_param("format");
    read = AuditExported{format ? to_valid_utf8(*format, 16) : "jsonl", std::move(filters)};
  } else {
    read = AuditRead{std::string(routed.route_name), std::move(filters)};
  }
  app.access->audit_read(std::move(read), call.ctx.actor, call.ctx.source, call.now);
}

}  // namespace

void note_answer(App& app, const Routed& routed, const Reply& reply) {
  if (app.access == nullptr || routed.route == nullptr) return;
  const unsigned status = status_of(reply);
  if (!routed.call.user) {
    // Not signed in: only a presented credential that was refused is an access attempt.
    if (status == 401 && presented_credential(app, routed.call)) {
      if (const auto* res = std::get_if<net::Response>(&reply)) note_denied(app, routed, *res);
    }
    return;
  }
  const std::string_view route = routed.route_name;
  const bool shows_one_event = route == kReceiptRoute || route == kInclusionRoute;
  if (status == 403 || (status == 404 && (route.starts_with(kTokenRoutes) || shows_one_event))) {
    if (const auto* res = std::get_if<net::Response>(&reply)) note_denied(app, routed, *res);
    return;
  }
  if (status == 200 &&
      (route == "/api/v1/audit" || route == "/api/v1/audit/stream" || route == "/api/v1/audit/export" ||
       route == "/api/v1/audit/export/manifest" || shows_one_event)) {
    note_audit_read(app, routed);
  }
}

void note_sign_in(App& app, const Call& call, std::string_view typed, std::string_view failure) {
  if (app.access == nullptr) return;
  const std::string username = canonical_username(typed);
  const bool account = failure.empty() || app.users.find(username).has_value();
  const Actor actor{account ? username : std::string{}, Via::session, {}};
  if (failure.empty()) {
    app.access->signed_in(actor, call.ctx.source, call.now);
  } else if (account) {
    app.access->sign_in_failed({username, {}, std::string(failure)}, actor, call.ctx.source, call.now);
  } else {
    // Never the typed text: people type passwords into the name field.
    const std::string_view reason = failure == "throttled" ? failure : std::string_view("unknown_user");
    app.access->sign_in_failed({{}, app.access->name_hash(username), std::string(reason)}, actor, call.ctx.source,
                               call.now);
  }
}

void note_sessions_ended(App& app, const Actor& actor, const Source& source, const std::string& username,
                         std::size_t count, std::string_view reason, Timestamp now) {
  if (app.access == nullptr) return;
  for (std::size_t i = 0; i < count; ++i) {
    app.access->session_ended({username, std::string(reason)}, actor, source, now);
  }
}

}  // namespace tl
