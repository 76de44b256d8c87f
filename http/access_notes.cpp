#include "http/access_notes.hpp"

#include "domain/text_rules.hpp"
#include "domain/user.hpp"
#include "service/access_events.hpp"

namespace tl {
namespace {

constexpr std::size_t kMaxTargetBytes = 256;
constexpr std::string_view kTokenRoutes = "/api/v1/tokens/{}";

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

void note_denied(App& app, const Routed& routed, const net::Response& res) {
  const Call& call = routed.call;
  std::string_view path = call.req.target();
  path = path.substr(0, path.find('?'));  // the query may carry anything; the path names the resource
  AccessDenied denial{.method = std::string(call.req.method_string()),
                      .route = std::string(routed.route_name),
                      .target = to_valid_utf8(path, kMaxTargetBytes),
                      .status = static_cast<int>(res.result_int()),
                      .code = error_code_of(res)};
  app.access->denied(std::move(denial), call.ctx.actor, call.ctx.source, call.now);
}

void note_audit_read(App& app, const Routed& routed) {
  const Call& call = routed.call;
  std::string filters = canonical_filters(call.query);
  if (routed.route_name == "/api/v1/audit/export") {
    const std::string* format = call.query_param("format");
    app.access->record(AuditExported{format ? to_valid_utf8(*format, 16) : "jsonl", std::move(filters)},
                       call.ctx.actor, call.ctx.source);
  } else {
    app.access->record(AuditRead{std::string(routed.route_name), std::move(filters)}, call.ctx.actor,
                       call.ctx.source);
  }
}

}  // namespace

void note_answer(App& app, const Routed& routed, const Reply& reply) {
  if (app.access == nullptr || routed.route == nullptr || !routed.call.user) return;
  const unsigned status = status_of(reply);
  const std::string_view route = routed.route_name;
  if (status == 403 || (status == 404 && route.starts_with(kTokenRoutes))) {
    if (const auto* res = std::get_if<net::Response>(&reply)) note_denied(app, routed, *res);
    return;
  }
  if (status == 200 && (route == "/api/v1/audit" || route == "/api/v1/audit/stream" ||
                        route == "/api/v1/audit/export" || route == "/api/v1/audit/export/manifest")) {
    note_audit_read(app, routed);
  }
}

void note_sign_in(App& app, const Call& call, std::string_view typed, std::string_view failure) {
  if (app.access == nullptr) return;
  const std::string username = canonical_username(typed);
  const bool account = failure.empty() || app.users.find(username).has_value();
  const Actor actor{account ? username : std::string{}, Via::session, {}};
  if (failure.empty()) {
    app.access->record(UserSignedIn{}, actor, call.ctx.source);
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
                         std::size_t count, std::string_view reason) {
  if (app.access == nullptr) return;
  for (std::size_t i = 0; i < count; ++i) {
    app.access->record(SessionEnded{username, std::string(reason)}, actor, source);
  }
}

}  // namespace tl
