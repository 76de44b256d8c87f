// Tokens (group api-tokens; each user sees only their own) and introspection.
#include <sodium.h>

#include <array>
#include <charconv>

#include "common/hex.hpp"
#include "common/json_writer.hpp"
#include "common/time_format.hpp"
#include "domain/text_rules.hpp"
#include "domain/user.hpp"
#include "http/audit_params.hpp"
#include "http/call.hpp"
#include "http/json_requests.hpp"
#include "http/proof_json.hpp"
#include "http/request_checks.hpp"
#include "http/responses.hpp"
#include "http/router.hpp"
#include "projections/point_in_time.hpp"

namespace tl {
namespace {

using net::http::status;

net::Response token_response(const TokenRow& row, Timestamp now, status code = status::ok) {
  auto res = json_response(code, token_json(row, now));
  res.set(net::http::field::etag, "\"" + std::to_string(row.state.version) + "\"");
  return res;
}

const std::string& owner_of(const Call& call) { return call.ctx.actor.user; }

// "7d", "36h", "90m"; a bare number is days.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t unit_ms = 86'400'000;
  switch (text.back()) {
    case 'd':
      text.remove_suffix(1);
      break;
    case 'h':
      unit_ms = 3'600'000, text.remove_suffix(1);
      break;
    case 'm':
      unit_ms = 60'000, text.remove_suffix(1);
      break;
    default:
      break;
  }
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n < 0 || n > 3650 * 24 * 60) return std::nullopt;
  return std::chrono::milliseconds{n * unit_ms};
}

// Auditors' point-in-time view: any user's tokens as they stood at `as_of` (default: now).
net::Response list_tokens_as_of(App& app, Call& call) {
  if (!call.user->in_group(kGroupAuditors)) {
    return error_response(Error::forbidden(
        "You need to be in the auditors group for a point-in-time token list (owner=, as_of=); your own tokens "
        "are at GET /api/v1/tokens without them."));
  }
  if (auto known = only_params(call, {"owner", "as_of"}); !known) return error_response(known.error());
  const std::string* owner = call.query_param("owner");
  if (owner == nullptr || owner->empty()) return error_response(Error::invalid_field("owner: required with as_of."));
  // The answer echoes it: it must be text a JSON document can hold.
  if (!utf8_length(*owner)) return error_response(Error::invalid_field("owner: must be valid UTF-8."));
  // Owners are stored by their canonical name: "ALICE" asks about alice, as everywhere else.
  AsOf as_of{.owner = canonical_username(*owner)};
  Timestamp moment = call.now;
  if (const std::string* text = call.query_param("as_of")) {
    auto t = parse_rfc3339(*text);
    if (!t) {
      return error_response(
          Error::invalid_field("as_of: must be an RFC 3339 time, like 2026-11-27T18:04:14Z." + plus_sign_hint(*text)));
    }
    moment = *t;
  }
  as_of.until = moment;
  auto rows = tokens_as_of(app.store, as_of);
  if (!rows) return error_response(rows.error());
  std::string body = R"({"owner":)";
  append_json_string(body, as_of.owner);
  body += R"(,"as_of":")" + format_rfc3339(moment) + R"(","tokens":[)";
  bool first = true;
  for (const auto& row : *rows) {
    if (!first) body.push_back(',');
    first = false;
    body += token_json(row, moment);
  }
  body += "]}";
  return json_response(status::ok, std::move(body));
}

// The hash of the configured introspection secret, computed once per thread (and again only
// if the secret differs, as in tests that run several apps in one process).
const std::array<unsigned char, crypto_hash_sha256_BYTES>& secret_hash(const App& app) {
  struct Cached {
    std::string secret;
    std::array<unsigned char, crypto_hash_sha256_BYTES> hash{};
    bool set = false;
  };
  thread_local Cached cached;
  if (!cached.set || cached.secret != app.introspection_secret) {
    cached.secret = app.introspection_secret;
    crypto_hash_sha256(cached.hash.data(), reinterpret_cast<const unsigned char*>(cached.secret.data()),
                       cached.secret.size());
    cached.set = true;
  }
  return cached.hash;
}

}  // namespace

Reply handle_list_tokens(App& app, Call& call) {
  if (call.query_param("owner") != nullptr || call.query_param("as_of") != nullptr) {
    return list_tokens_as_of(app, call);
  }
  if (!call.user->in_group(kGroupApiTokens)) {
    return error_response(Error::forbidden("You need to be in the api-tokens group for this."));
  }
  std::optional<std::chrono::milliseconds> within;
  if (const std::string* text = call.query_param("expiring_within")) {
    within = parse_duration(*text);
    if (!within) return error_response(Error::invalid_field("expiring_within: a duration like 7d, 36h or 90m."));
  }
  std::string body = R"({"tokens":[)";
  bool first = true;
  for (const auto& row : app.tokens.list(owner_of(call))) {
    if (within && (row.state.expired(call.now) || row.state.expires_at() - call.now > *within)) continue;
    if (!first) body.push_back(',');
    first = false;
    body += token_json(row, call.now);
  }
  body += "]}";
  return json_response(status::ok, std::move(body));
}

Reply handle_create_token(App& app, Call& call) {
  auto body = parse_create_token(call.req.body());
  if (!body) return error_response(body.error());
  return Pending(app.tokens.create(call.ctx, std::move(body->description), body->timeout_days, call.now),
                 [now = call.now](Result<TokenRow> row) {
                   if (!row) return error_response(row.error());
                   auto res = token_response(*row, now, status::created);
                   res.set(net::http::field::location, "/api/v1/tokens/" + row->state.id);
                   return res;
                 });
}

Reply handle_get_token(App& app, Call& call) {
  auto row = app.tokens.get(owner_of(call), call.params[0]);
  if (!row) return error_response(row.error());
  return token_response(*row, call.now);
}

Reply handle_update_token(App& app, Call& call) {
  auto if_match = parse_if_match(call.req);
  if (!if_match) return error_response(if_match.error());
  auto body = parse_update_token(call.req.body());
  if (!body) return error_response(body.error());
  UpdateToken cmd{std::move(body->description), body->timeout_days, *if_match};
  return Pending(app.tokens.update(call.ctx, call.params[0], cmd, call.now), [now = call.now](Result<TokenRow> row) {
    if (!row) return error_response(row.error());
    return token_response(*row, now);
  });
}

Reply handle_delete_token(App& app, Call& call) {
  return Pending(app.tokens.remove(call.ctx, call.params[0]),
                 [&app](Status removed, const std::optional<AppendResult>& landed) {
                   if (!removed) return error_response(removed.error());
                   net::Response res = no_content();
                   // A 204 has no body: the receipt of the TokenDeleted goes in a header.
                   if (auto receipt = receipt_of(app, landed)) {
                     res.set("Tokenledger-Receipt", receipt_header(receipt->seq, receipt->leaf_hash));
                   }
                   return res;
                 });
}

Reply handle_reveal_token(App& app, Call& call) {
  if (app.settings.reveal_reauth_minutes > 0 && call.ctx.actor.via == Via::session) {
    const auto authenticated = app.sessions.authenticated_at(call.session_id);
    if (!authenticated || call.now - *authenticated > std::chrono::minutes(app.settings.reveal_reauth_minutes)) {
      return error_response({ErrorCode::reauthentication_required,
                             "Type your password again to show a code (POST /api/v1/session/reauth)."});
    }
  }
  // Counted before the append, per user (--reveal-rate): each reveal is a record, so without a
  // bound one user could fill the disk. A refused reveal appends nothing.
  if (app.reveal_limiter != nullptr) {
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(call.now.time_since_epoch()).count();
    if (const std::int64_t wait = app.reveal_limiter->take(call.ctx.actor.user, now_ms); wait > 0) {
      auto res = error_response(Error::rate_limited("Too many reveals; try again in " + std::to_string(wait) + " s."));
      res.set(net::http::field::retry_after, std::to_string(wait));
      return res;
    }
  }
  // The answer, with the code, is built only once the TokenRevealed is durable.
  return Pending(app.tokens.reveal(call.ctx, call.params[0]),
                 [&app, id = call.params[0]](Result<std::string> code, const std::optional<AppendResult>& landed) {
                   if (!code) return error_response(code.error());
                   JsonWriter w;
                   w.begin_object().key("id").value(id).key("token").value(*code);
                   sodium_memzero(code->data(), code->size());
                   // Where the TokenRevealed is: GET /api/v1/audit/receipts/{seq} proves it is in the log.
                   if (auto receipt = receipt_of(app, landed)) {
                     w.key("receipt")
                         .begin_object()
                         .key("seq")
                         .value(receipt->seq)
                         .key("leaf_hash")
                         .value(to_hex(receipt->leaf_hash.data(), receipt->leaf_hash.size()))
                         .end_object();
                   }
                   w.end_object();
                   return json_response(status::ok, std::move(w).str());
                 });
}

Reply handle_token_history(App& app, Call& call) {
  auto records = app.tokens.history(owner_of(call), call.params[0]);
  if (!records) return error_response(records.error());
  TokenDescriptions descriptions(app.store);
  return json_response(status::ok, events_json(*records, {}, &descriptions));
}

Reply handle_introspect(App& app, Call& call) {
  // The service credential, compared in constant time (over fixed-size hashes, so that the
  // comparison does not even tell the length).
  unsigned char given[crypto_hash_sha256_BYTES];
  const std::string_view presented = bearer_credentials(call.req[net::http::field::authorization]).value_or("");
  crypto_hash_sha256(given, reinterpret_cast<const unsigned char*>(presented.data()), presented.size());
  if (presented.empty() || sodium_memcmp(given, secret_hash(app).data(), sizeof given) != 0) {
    auto res = error_response(Error::unauthenticated("Present the introspection credential as a Bearer token."));
    res.set(net::http::field::www_authenticate, "Bearer realm=\"tokenledger-introspection\"");
    return res;
  }
  Result<std::string> code = Error::invalid_field("");
  if (has_media_type(call.req, "application/x-www-form-urlencoded")) {
    code = parse_introspect_form(call.req.body());
  } else if (has_media_type(call.req, "application/json")) {
    code = parse_introspect_json(call.req.body());
  } else {
    return error_response(
        {ErrorCode::unsupported_media_type, "Send token=<code> as a form, or {\"token\": \"<code>\"} as JSON."});
  }
  if (!code) return error_response(code.error());
  const Introspection result = app.tokens.introspect(*code, call.now, call.ctx.source.ip);
  JsonWriter w;
  w.begin_object().key("active").value(result.active);
  if (result.active) {
    w.key("sub").value(result.owner).key("token_id").value(result.token_id);
    w.key("exp").value(result.exp).key("iat").value(result.iat);
  }
  w.end_object();
  return json_response(status::ok, std::move(w).str());
}

}  // namespace tl
