// Server-stored sign-in sessions (the sign-in throttle is service/login_throttle.hpp). One server keeps them in
// memory: a restart signs everyone out, which is the safe direction. Servers that share a PostgreSQL log keep them
// in its state (service/session_table.hpp), so that any of them serves any request. A session ends after an idle
// time, after an absolute lifetime, at logout, and when its user's password changes or the user is deleted.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "domain/result.hpp"
#include "domain/time.hpp"
#include "service/session_table.hpp"

namespace tl {

class SessionStore {
 public:
  // A session that ended other than by remove(): reason "idle" or "lifetime" (SessionEnded).
  struct Ended {
    std::string username;
    std::string_view reason;
  };

  SessionStore(std::chrono::minutes idle, std::chrono::minutes absolute,
               std::unique_ptr<SessionTable> table = memory_session_table())
      : idle_(idle), absolute_(absolute), table_(std::move(table)) {}

  // Returns the new session's id: the cookie value. Only its hash is kept. Unavailable when the
  // session could not be stored (a shared table whose database is out of reach): no server would
  // know the cookie.
  Result<std::string> create(const std::string& username, Timestamp now);
  // The session's user, or nullopt when unknown or expired. Extends the idle time. When the
  // session had expired it is ended now, and `ended` (when given) says whose and why.
  std::optional<std::string> resolve(const std::string& session_id, Timestamp now, Ended* ended = nullptr);
  // Whether the session still stands at `now`, without extending it: a long request (an audit
  // stream) asks this while it runs, and must not keep an idle session alive by asking.
  bool active(const std::string& session_id, Timestamp now);
  // When the session's user last typed their password (sign-in or re-authentication).
  std::optional<Timestamp> authenticated_at(const std::string& session_id);
  void reauthenticated(const std::string& session_id, Timestamp now);
  // Ends the session; its user, or nullopt when there was none (unknown or already ended).
  // Unavailable when the end could not be stored: other servers of a shared table would still
  // serve the session, so the sign-out must not be reported done (OWASP Session Management:
  // the session is invalidated on the server side).
  Result<std::optional<std::string>> remove(const std::string& session_id);
  // Ends every session of `username`; how many there were.
  std::size_t remove_user(const std::string& username);
  // Ends every session of `username` but `keep` (a password change keeps the session that made it);
  // how many ended.
  std::size_t remove_user_except(const std::string& username, const std::string& keep);
  // Ends every session expired at `now` and returns them, with those create() dropped since the
  // last call: the server calls it every few seconds, so an idle session's end is recorded close
  // to when it happened, whether or not its cookie is ever presented again.
  std::vector<Ended> sweep(Timestamp now);
  // Ends every session (the server stops: sessions live in memory), each as "server_stopped";
  // none when the sessions are shared (they outlive this server).
  std::vector<Ended> remove_all();
  std::chrono::minutes absolute_lifetime() const { return absolute_; }

 private:
  // The reason `s` has ended by `now`, or "" while it stands.
  std::string_view end_reason(const StoredSession& s, Timestamp now) const;
  // Removes the sessions of `username` whose key is not `kept`; how many.
  std::size_t remove_user_sessions(const std::string& username, const std::string& kept);

  std::chrono::minutes idle_;
  std::chrono::minutes absolute_;
  std::mutex mutex_;
  std::unique_ptr<SessionTable> table_;  // guarded by mutex_
  std::size_t created_ = 0;              // guarded by mutex_
  std::vector<Ended> swept_;             // dropped by create(), for sweep()
};

}  // namespace tl
