// Identity: sign-in sessions, who am I, and the admins' user management.
#include "common/build_info.hpp"
#include "common/json_writer.hpp"
#include "eventstore/rocksdb_version.hpp"
#include "http/access_notes.hpp"
#include "http/call.hpp"
#include "http/json_requests.hpp"
#include "http/request_checks.hpp"
#include "http/responses.hpp"
#include "service/offboarding.hpp"
#include "service/password_policy.hpp"

namespace tl {
namespace {

using net::http::status;

// Named __Host-tl_session when Secure (HttpSettings::session_cookie_name): that prefix makes
// the browser refuse one set over plain http or for a Domain, so a neighbour cannot plant it.
std::string session_cookie(const App& app, std::string_view value, std::chrono::seconds max_age) {
  std::string cookie = std::string(app.settings.session_cookie_name()) + "=" + std::string(value) +
                       "; HttpOnly; SameSite=Strict; Path=/; Max-Age=" + std::to_string(max_age.count());
  if (app.settings.secure_cookie()) cookie += "; Secure";
  return cookie;
}

void write_groups(JsonWriter& w, const std::vector<std::string>& groups) {
  w.key("groups").begin_array();
  for (const auto& g : groups) w.value(g);
  w.end_array();
}

// 429 with the throttle's truthful wait (RFC 6585 §4, RFC 9110 §10.2.3: delay-seconds).
net::Response throttled(const LoginThrottle::Decision& decision) {
  auto res = error_response(Error::rate_limited("Too many password attempts; try again in " +
                                                std::to_string(decision.retry_after.count()) + " seconds."));
  res.set(net::http::field::retry_after, std::to_string(decision.retry_after.count()));
  return res;
}

// An error of a password check or a session change; a 503 (no hash slot came free, the
// sessions' database out of reach) says when to come back.
net::Response error_with_retry(const Error& error) {
  auto res = error_response(error);
  if (error.code == ErrorCode::unavailable) res.set(net::http::field::retry_after, "1");
  return res;
}

}  // namespace

Reply handle_login(App& app, Call& call) {
  auto body = parse_login(call.req.body());
  if (!body) return error_response(body.error());
  // No name is longer: refused before it costs a hash or a throttle entry.
  if (body->username.size() > kMaxUsernameLength) {
    return error_response(Error::invalid_field("username: at most 64 characters."));
  }
  const std::string& ip = call.ctx.source.ip;
  // Counted before the check, so parallel guesses cannot outrun the limit; a success refunds it.
  if (auto slot = app.throttle.reserve(body->username, ip, call.now); !slot.granted) {
    note_sign_in(app, call, body->username, "throttled");
    return throttled(slot);
  }
  auto user = app.users.authenticate(body->username, body->password);
  if (!user) {
    // A 503 (no hash slot free) is no verdict on the password: nothing to record.
    if (user.error().code == ErrorCode::unauthenticated) note_sign_in(app, call, body->username, "wrong_password");
    if (user.error().code == ErrorCode::forbidden) note_sign_in(app, call, body->username, "disabled");
    return error_with_retry(user.error());
  }
  app.throttle.succeeded(body->username, ip);
  auto made = app.sessions.create(user->username, call.now);
  if (!made) return error_with_retry(made.error());  // 503 with Retry-After; no sign-in happened
  const std::string& session = *made;
  note_sign_in(app, call, user->username, "");
  JsonWriter w;
  w.begin_object().key("user").value(user->username);
  write_groups(w, user->groups);
  w.end_object();
  auto res = json_response(status::ok, std::move(w).str());
  res.set(net::http::field::set_cookie, session_cookie(app, session, app.sessions.absolute_lifetime()));
  return res;
}

Reply handle_logout(App& app, Call& call) {
  if (!call.session_id.empty()) {
    auto user = app.sessions.remove(call.session_id);
    if (!user) return error_with_retry(user.error());  // 503 with Retry-After; the cookie is kept for a retry
    if (*user) {
      note_sessions_ended(app, {**user, Via::session, {}}, call.ctx.source, **user, 1, "sign_out", call.now);
    }
  }
  auto res = no_content();
  res.set(net::http::field::set_cookie, session_cookie(app, "", std::chrono::seconds{0}));
  return res;
}

Reply handle_reauth(App& app, Call& call) {
  if (call.session_id.empty()) return error_response(Error::forbidden("Only a signed-in session re-authenticates."));
  auto body = parse_reauth(call.req.body());
  if (!body) return error_response(body.error());
  const std::string& ip = call.ctx.source.ip;
  if (auto slot = app.throttle.reserve(call.ctx.actor.user, ip, call.now); !slot.granted) return throttled(slot);
  return Pending(app.users.reauthenticate(call.ctx, *body),
                 [&app, user = call.ctx.actor.user, ip, session = call.session_id, now = call.now](Status ok) {
                   if (!ok) return error_with_retry(ok.error());
                   app.throttle.succeeded(user, ip);
                   app.sessions.reauthenticated(session, now);
                   return no_content();
                 });
}

Reply handle_me(App&, Call& call) {
  const UserState& user = *call.user;
  JsonWriter w;
  w.begin_object().key("user").value(user.username);
  write_groups(w, user.groups);
  w.key("can_manage_tokens").value(user.in_group(kGroupApiTokens));
  w.key("can_audit").value(user.in_group(kGroupAuditors));
  w.key("can_admin").value(user.in_group(kGroupAdmins));
  w.key("via").value(call.ctx.actor.stored_via());
  w.key("must_change_password").value(user.must_change_password);
  // Which build serves is for admins only: to others (and on open routes) it would only help an
  // attacker pick the known bugs of a version.
  if (user.in_group(kGroupAdmins)) {
    const BuildInfo b = build_info(rocksdb_version());
    w.key("build").begin_object();
    w.key("version").value(b.version).key("commit").value(b.commit).key("build_type").value(b.build_type);
    w.key("rocksdb").value(b.rocksdb).key("boost").value(b.boost);
    w.end_object();
  }
  w.end_object();
  return json_response(status::ok, std::move(w).str());
}

Reply handle_change_password(App& app, Call& call) {
  // A bearer token is not the person: only someone who signed in may change the password.
  if (call.session_id.empty())
    return error_response(Error::forbidden("Only a signed-in session changes its password."));
  auto body = parse_change_password(call.req.body());
  if (!body) return error_response(body.error());
  // Keeping the current password is no change: a password an admin chose (must_change) would stay
  // known to the admin.
  if (body->next == body->current) {
    return error_response(Error::invalid_field("new: must differ from the current password."));
  }
  // The new password's rules first: a refused one costs no hash and no throttle slot.
  if (auto valid = check_new_password(body->next, "new"); !valid) return error_response(valid.error());
  const std::string& ip = call.ctx.source.ip;
  if (auto slot = app.throttle.reserve(call.ctx.actor.user, ip, call.now); !slot.granted) return throttled(slot);
  return Pending(app.users.change_own_password(call.ctx, body->current, body->next),
                 [&app, ctx = call.ctx, ip, session = call.session_id, now = call.now](Status ok) {
                   if (!ok) return error_with_retry(ok.error());
                   const std::string& user = ctx.actor.user;
                   app.throttle.succeeded(user, ip);
                   // Other devices sign in again.
                   note_sessions_ended(app, ctx.actor, ctx.source, user, app.sessions.remove_user_except(user, session),
                                       "revoked", now);
                   return no_content();
                 });
}

Reply handle_list_users(App& app, Call& call) {
  std::string body = R"({"users":[)";
  bool first = true;
  for (const auto& user : app.users.list()) {
    if (!first) body.push_back(',');
    first = false;
    body += user_json(user, app.tokens.live_tokens(user.username, call.now));
  }
  body += "]}";
  return json_response(status::ok, std::move(body));
}

Reply handle_create_user(App& app, Call& call) {
  auto body = parse_create_user(call.req.body());
  if (!body) return error_response(body.error());
  return Pending(app.users.create(call.ctx, body->username, body->password, std::move(body->groups), body->must_change),
                 [](Result<UserState> user) {
                   if (!user) return error_with_retry(user.error());
                   auto res = json_response(status::created, user_json(*user, 0));
                   res.set(net::http::field::location, "/api/v1/users/" + user->username);
                   return res;
                 });
}

Reply handle_patch_user(App& app, Call& call) {
  auto body = parse_patch_user(call.req.body());
  if (!body) return error_response(body.error());
  const std::string& username = call.params[0];  // case-folded by the router: "ALICE" is alice
  const bool password_changes = body->password.has_value();
  return Pending(app.users.update(call.ctx, username, std::move(body->groups), std::move(body->password),
                                  body->disabled, body->must_change),
                 [&app, username, password_changes, ctx = call.ctx, now = call.now](Result<UserState> user) {
                   if (!user) return error_with_retry(user.error());
                   // A new password ends every old session; so does disabling (also when she already was).
                   if (password_changes || user->disabled) {
                     note_sessions_ended(app, ctx.actor, ctx.source, username, app.sessions.remove_user(username),
                                         "revoked", now);
                   }
                   return json_response(status::ok, user_json(*user, app.tokens.live_tokens(username, now)));
                 });
}

Reply handle_delete_user(App& app, Call& call) {
  const std::string& username = call.params[0];  // case-folded by the router
  // A deleted user's tokens stop working at once; revoking them also records why.
  return Pending(delete_user(app.users, app.model, call.ctx, username), [&app, username, ctx = call.ctx,
                                                                         now = call.now](Result<std::size_t> deleted) {
    // Once the user is gone her sessions are too, even if revoking a token failed afterwards.
    if (!app.users.find(username)) {
      note_sessions_ended(app, ctx.actor, ctx.source, username, app.sessions.remove_user(username), "revoked", now);
    }
    if (!deleted) return error_response(deleted.error());
    return no_content();
  });
}

Reply handle_revoke_user_tokens(App& app, Call& call) {
  auto reason = parse_revoke(call.req.body());
  if (!reason) return error_response(reason.error());
  const std::string& username = call.params[0];  // case-folded by the router
  if (!app.users.find(username)) return error_response(Error::not_found("No such user."));
  return Pending(revoke_tokens(app.model, call.ctx, username, *reason), [&app, username, ctx = call.ctx,
                                                                         now = call.now](Result<std::size_t> revoked) {
    if (!revoked) return error_response(revoked.error());  // a refused request ends no session
    // Her sessions end too: whoever holds her tokens may hold a session as well.
    note_sessions_ended(app, ctx.actor, ctx.source, username, app.sessions.remove_user(username), "revoked", now);
    JsonWriter w;
    w.begin_object().key("username").value(username).key("revoked").value(static_cast<std::uint64_t>(*revoked));
    w.end_object();
    return json_response(status::ok, std::move(w).str());
  });
}

}  // namespace tl
