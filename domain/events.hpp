// The facts the log records. No event carries a token code or a password in plain text:
// a token carries only the keyed lookup hash and the sealed (encrypted) code.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "domain/time.hpp"

namespace tl {

struct TokenCreated {
  std::string owner;
  std::string description;
  int timeout_days = 0;
  std::string code_lookup;  // keyed hash of the code, hex
  std::string code_sealed;  // code encrypted with the token's data key, hex
};
struct TokenDescriptionChanged {
  std::string description;
};
struct TokenTimeoutChanged {
  int timeout_days = 0;
};
struct TokenRevealed {};
struct TokenDeleted {
  std::string reason;  // empty when the owner deleted it
};
// The token was presented (introspection or bearer authentication). Coalesced: at most one per
// token per interval; used_at is the exact time of the latest use it stands for.
struct TokenUsed {
  Timestamp used_at{};
  std::string ip;
};

struct UserCreated {
  std::string username;
  std::vector<std::string> groups;
  bool must_change = false;  // the user must choose her own password first; stored only when true
};
struct UserGroupsChanged {
  std::vector<std::string> groups;
};
// must_change: set by an admin, so the user must choose her own password before anything else;
// stored only when true, so older records keep their bytes.
struct UserPasswordChanged {
  bool must_change = false;
};
// The user typed their password again to show a code (reveal with recent login).
struct UserReauthenticated {};
struct UserDeleted {};
// An admin disabled the account: no sign-in, no session, no active token until UserEnabled.
struct UserDisabled {};
struct UserEnabled {};

// The owner was told (by webhook) that the token is about to expire or has expired.
struct TokenExpiryNotified {
  std::string window;  // "7d", "1d" or "expired"
  bool delivered = false;
};

// The check value of the master key this database's codes are sealed under (a one-way value
// derived from the key, never the key), recorded once, so that a start with another master key is
// refused instead of serving codes it cannot open. Stream "system:keys".
struct KeyCheckRecorded {
  std::string master_key_check;  // hex
};

// An admin had the server back up the database (POST /api/v1/admin/backups): the backup's name
// in the backup directory, the head it holds and whether the key files went with it. Recorded
// after the backup was written and verified; stream "system:backups".
struct BackupTaken {
  std::string name;
  std::uint64_t head_seq = 0;
  std::string head_hash;
  bool include_keys = false;
};

// Access events (issue 18; SOC 2 CC6/CC7, ISO 27001 A.8.15, PCI DSS 10.2): who signed in, failed
// to, was refused, read the trail, and when the server ran. Best effort, on stream "system:access"
// (kAccessStream in service/access_events.hpp): never awaited before answering, dropped and counted
// when the log refuses writes. Empty optional fields are not written.

// Every access event is bounded per user (or client address) and minute (AccessEvents in
// service/access_events.hpp): past its budget the minute's others are one record with `count`
// (written only when not 1) and nothing that names one of them alone.

// A password sign-in succeeded; the actor is the user.
struct UserSignedIn {
  std::uint64_t count = 1;
};
// A sign-in was refused. `username` when the typed name is an account, else `name_hash`: a keyed
// hash (HMAC-SHA-256, hex) of the typed name, never its text (people type passwords there).
// reason: "unknown_user", "wrong_password", "throttled", "disabled".
struct UserSignInFailed {
  std::string username;
  std::string name_hash;
  std::string reason;
  // Throttled attempts from one address are coalesced like AccessDenied: the first of a minute
  // alone, the minute's others in one record with their count and neither name (written when > 1).
  std::uint64_t count = 1;
};
// A session of `username` ended. reason: "sign_out", "idle", "lifetime", "revoked" (a password
// change, a disabled or deleted account, revoked tokens), "server_stopped" (sessions live in
// memory); the actor is who ended it.
struct SessionEnded {
  std::string username;
  std::string reason;
  std::uint64_t count = 1;
};
// Authenticated requests refused with 403, or 404 on a token id (another user's or none: both are
// recorded, so the trail is no existence oracle), and requests refused with 401 that presented a
// credential (an unknown, expired or deleted token; an ended session: the actor is then empty),
// coalesced per user, via, method, route and status (401: per client address): `count` refusals
// from `first_at` on; `target` (the path of the first of them, any token code in it redacted) only
// when count is 1.
struct AccessDenied {
  std::string method;
  std::string route;   // the route's pattern, e.g. /api/v1/tokens/{}/reveal
  std::string target;  // the path asked for, valid UTF-8, at most 256 bytes
  int status = 0;
  std::string code;  // the error code answered (forbidden, not_found, insufficient_scope, …)
  std::uint64_t count = 1;
  Timestamp first_at{};
};
// The trail was read (route /api/v1/audit, its stream or the export's manifest) with `filters`:
// the query's name=value pairs, sorted, joined by '&'.
struct AuditRead {
  std::string route;
  std::string filters;  // "" in a record standing for several (count > 1)
  std::uint64_t count = 1;
};
// The trail was exported (GET /api/v1/audit/export) in `format` with `filters`.
struct AuditExported {
  std::string format;
  std::string filters;
  std::uint64_t count = 1;
};
// The server started serving writes: its build, the options that matter (name=value, space
// separated) and what the start-up check of the log found ("ok", "not_run" or the problem).
struct ServerStarted {
  std::string version;
  std::string commit;
  std::string options;
  std::string verification;
};
// The server stopped (a signal); `reason` as logged.
struct ServerStopped {
  std::string reason;
};

using Event =
    std::variant<TokenCreated, TokenDescriptionChanged, TokenTimeoutChanged, TokenRevealed, TokenDeleted, TokenUsed,
                 TokenExpiryNotified, UserCreated, UserGroupsChanged, UserPasswordChanged, UserReauthenticated,
                 UserDeleted, KeyCheckRecorded, UserDisabled, UserEnabled, BackupTaken, UserSignedIn, UserSignInFailed,
                 SessionEnded, AccessDenied, AuditRead, AuditExported, ServerStarted, ServerStopped>;

// The stable type name recorded in the log ("TokenCreated", ...).
std::string_view event_type(const Event& event) noexcept;
bool is_token_event(const Event& event) noexcept;
// The best-effort access events (UserSignedIn … ServerStopped above): what a failed request may
// append ("a request that fails appends no domain event", API.md).
bool is_access_event(const Event& event) noexcept;

// How the actor reached the service. Each has one name the log stores (via_name); the names
// are part of the disk format and never change. `other` is a name this build does not know (or
// none at all, as in a default Actor): its text is kept in Actor::via_other, so a record read
// from the log writes back to the same bytes, which its hash covers.
enum class Via : std::uint8_t { other, session, api_token, admin_tool, system };

// The stored name of `via`: "session", "api_token", "admin_tool", "system"; "" for Via::other.
constexpr std::string_view via_name(Via via) noexcept {
  switch (via) {
    case Via::session:
      return "session";
    case Via::api_token:
      return "api_token";
    case Via::admin_tool:
      return "admin_tool";
    case Via::system:
      return "system";
    case Via::other:
      break;
  }
  return {};
}

// The Via a stored name stands for: the inverse of via_name; Via::other for any other text.
constexpr Via via_from_name(std::string_view name) noexcept {
  for (Via via : {Via::session, Via::api_token, Via::admin_tool, Via::system}) {
    if (via_name(via) == name) return via;
  }
  return Via::other;
}

// Who did it: a user through a session, an API token, the admin tool, or the system itself.
struct Actor {
  std::string user;
  Via via = Via::other;
  std::string token_id;  // set when via == Via::api_token
  // Set only by the admin tool, from the operating system (never from the environment), so the
  // trail names the person even behind sudo. Empty fields are not written, which keeps the bytes
  // (and hashes) of records without them unchanged.
  std::string login_user;  // the account of /proc/self/loginuid (the login sudo cannot change)
  std::string host;        // gethostname()
  std::string sudo_user;   // $SUDO_USER: a hint only, settable by anyone, never the actor
  // The stored name when via is Via::other (a record of another build); ignored otherwise.
  std::string via_other;

  // The name the log stores for this actor's `via`.
  std::string_view stored_via() const noexcept {
    return via == Via::other ? std::string_view(via_other) : via_name(via);
  }
};

// Where it came from.
struct Source {
  std::string ip;  // the client: the socket peer, or the address a trusted proxy forwarded
  std::string user_agent;
  std::string request_id;  // the server's own id of the request
  // Empty fields below are not written, which keeps the bytes (and hashes) of records
  // without them unchanged.
  std::string client_request_id;  // the client's X-Request-Id, for correlation only (forgeable)
  std::string peer;               // the socket peer (a proxy), when it differs from ip
};

}  // namespace tl
