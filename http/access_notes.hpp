// The access events the HTTP layer records (service/access_events.hpp, issue 18 item 1): where a
// request's answer, a sign-in or the end of sessions becomes a best-effort record. None of these
// waits for the log; without an AccessEvents (App::access null) they do nothing.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "http/call.hpp"
#include "http/router.hpp"

namespace tl {

// The actor of the events the server records by itself (a session found expired, the stop).
inline Actor server_actor() { return {"system", Via::system, {}}; }

// Once a request is answered (`reply`, a command's already awaited): AccessDenied for an
// authenticated request refused with 403, or with 404 on a token id (/api/v1/tokens/{}…), and for
// a 401 to a request that presented a credential (Bearer or the session cookie);
// AuditRead for /api/v1/audit, its stream and the export's manifest answered 200, AuditExported
// for the export (none for /audit/verify).
void note_answer(App& app, const Routed& routed, const Reply& reply);

// A sign-in of the typed name `typed`: `failure` "" when it succeeded (UserSignedIn), else the
// reason of UserSignInFailed ("wrong_password", "throttled", "disabled"); a name that is no
// account is recorded as its keyed hash, with "unknown_user" unless throttled.
void note_sign_in(App& app, const Call& call, std::string_view typed, std::string_view failure);

// `count` sessions of `username` ended for `reason` ("sign_out", "revoked", "idle", "lifetime"),
// by `actor`: one SessionEnded each (bounded per user and minute: AccessEvents::session_ended).
void note_sessions_ended(App& app, const Actor& actor, const Source& source, const std::string& username,
                         std::size_t count, std::string_view reason, Timestamp now);

}  // namespace tl
