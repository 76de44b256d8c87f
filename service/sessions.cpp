#include "service/sessions.hpp"

#include "eventstore/codec.hpp"
#include "eventstore/passwords.hpp"

namespace tl {

std::string_view SessionStore::end_reason(const StoredSession& s, Timestamp now) const {
  if (now - s.created > absolute_) return "lifetime";
  if (now - s.last_seen > idle_) return "idle";
  return {};
}

Result<std::string> SessionStore::create(const std::string& username, Timestamp now) {
  std::string id = random_urlsafe(32);
  std::lock_guard lock(mutex_);
  // Drop expired sessions now and then, so memory stays bounded by live sessions (the server's
  // sweep does it sooner; this holds without one).
  if (!table_->shared() && ++created_ % 1024 == 0) {
    for (const auto& [key, session] : table_->all()) {
      const std::string_view reason = end_reason(session, now);
      if (reason.empty()) continue;
      if (swept_.size() < 100'000) swept_.push_back({session.username, reason});
      table_->erase(key);
    }
  }
  if (!table_->put(sha256_hex(id), {username, now, now, now})) {
    return Error::unavailable("The session could not be stored (the database is out of reach); sign in again shortly.");
  }
  return id;
}

std::optional<std::string> SessionStore::resolve(const std::string& session_id, Timestamp now, Ended* ended) {
  const std::string key = sha256_hex(session_id);
  std::lock_guard lock(mutex_);
  auto session = table_->get(key);
  if (!session) return std::nullopt;
  if (const std::string_view reason = end_reason(*session, now); !reason.empty()) {
    if (ended) *ended = {session->username, reason};
    table_->erase(key);
    return std::nullopt;
  }
  // Shared sessions are written back at most every tenth of the idle time (and every minute),
  // so that a request is not a write; the idle end comes at most that much early.
  const auto refresh = std::min<std::chrono::milliseconds>(
      std::chrono::duration_cast<std::chrono::milliseconds>(idle_) / 10, std::chrono::minutes(1));
  if (!table_->shared() || now - session->last_seen >= refresh) {
    session->last_seen = now;
    // Ended meanwhile (a sign-out or a revocation through another server): it stays ended.
    if (table_->refresh(key, *session) == SessionTable::Refreshed::gone) return std::nullopt;
  }
  return std::move(session->username);
}

std::vector<SessionStore::Ended> SessionStore::sweep(Timestamp now) {
  std::lock_guard lock(mutex_);
  std::vector<Ended> ended = std::move(swept_);
  swept_.clear();
  if (!table_->sweeps()) return ended;  // another process sweeps the shared sessions
  for (const auto& [key, session] : table_->all()) {
    const std::string_view reason = end_reason(session, now);
    if (reason.empty()) continue;
    if (!table_->erase(key)) continue;  // still stored: ended by a later sweep
    ended.push_back({session.username, reason});
  }
  return ended;
}

bool SessionStore::active(const std::string& session_id, Timestamp now) {
  std::lock_guard lock(mutex_);
  auto session = table_->get(sha256_hex(session_id));
  return session && end_reason(*session, now).empty();
}

std::optional<Timestamp> SessionStore::authenticated_at(const std::string& session_id) {
  std::lock_guard lock(mutex_);
  auto session = table_->get(sha256_hex(session_id));
  if (!session) return std::nullopt;
  return session->authenticated;
}

void SessionStore::reauthenticated(const std::string& session_id, Timestamp now) {
  const std::string key = sha256_hex(session_id);
  std::lock_guard lock(mutex_);
  auto session = table_->get(key);
  if (!session) return;
  session->authenticated = now;
  table_->refresh(key, *session);
}

Result<std::optional<std::string>> SessionStore::remove(const std::string& session_id) {
  const std::string key = sha256_hex(session_id);
  std::lock_guard lock(mutex_);
  auto session = table_->get(key);
  if (!session) return std::optional<std::string>();
  if (!table_->erase(key)) {
    return Error::unavailable(
        "The sign-out could not be stored (the database is out of reach), so other servers "
        "may still accept this session; sign out again shortly.");
  }
  return std::optional<std::string>(std::move(session->username));
}

std::size_t SessionStore::remove_user_sessions(const std::string& username, const std::string& kept) {
  std::lock_guard lock(mutex_);
  std::size_t removed = 0;
  for (const auto& [key, session] : table_->all()) {
    if (session.username != username || key == kept) continue;
    if (table_->erase(key)) ++removed;
  }
  return removed;
}

std::size_t SessionStore::remove_user(const std::string& username) { return remove_user_sessions(username, {}); }

std::size_t SessionStore::remove_user_except(const std::string& username, const std::string& keep) {
  return remove_user_sessions(username, sha256_hex(keep));
}

std::vector<SessionStore::Ended> SessionStore::remove_all() {
  std::lock_guard lock(mutex_);
  std::vector<Ended> ended;
  if (table_->shared()) return ended;
  for (auto& [key, session] : table_->all()) {
    ended.push_back({std::move(session.username), "server_stopped"});
    table_->erase(key);
  }
  return ended;
}

}  // namespace tl
