// The facts the log records. No event carries a token code or a password in plain text:
// a token carries only the keyed lookup hash and the sealed (encrypted) code.
#pragma once

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

using Event = std::variant<TokenCreated, TokenDescriptionChanged, TokenTimeoutChanged,
                           TokenRevealed, TokenDeleted, TokenUsed, TokenExpiryNotified, UserCreated, UserGroupsChanged,
                           UserPasswordChanged, UserReauthenticated, UserDeleted, KeyCheckRecorded, UserDisabled,
                           UserEnabled>;

// The stable type name recorded in the log ("TokenCreated", ...).
std::string_view event_type(const Event& event) noexcept;
bool is_token_event(const Event& event) noexcept;

// Who did it: a user through a session, an API token, the admin tool, or the system itself.
struct Actor {
  std::string user;
  std::string via;       // "session", "api_token", "admin_tool", "system"
  std::string token_id;  // set when via == "api_token"
  // Set only by the admin tool, from the operating system (never from the environment), so the
  // trail names the person even behind sudo. Empty fields are not written, which keeps the bytes
  // (and hashes) of records without them unchanged.
  std::string login_user;  // the account of /proc/self/loginuid (the login sudo cannot change)
  std::string host;        // gethostname()
  std::string sudo_user;   // $SUDO_USER: a hint only, settable by anyone, never the actor
};

// Where it came from.
struct Source {
  std::string ip;          // the client: the socket peer, or the address a trusted proxy forwarded
  std::string user_agent;
  std::string request_id;  // the server's own id of the request
  // Empty fields below are not written, which keeps the bytes (and hashes) of records
  // without them unchanged.
  std::string client_request_id;  // the client's X-Request-Id, for correlation only (forgeable)
  std::string peer;               // the socket peer (a proxy), when it differs from ip
};

}  // namespace tl
