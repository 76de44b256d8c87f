#include "service/sessions.hpp"

#include "eventstore/codec.hpp"
#include "eventstore/passwords.hpp"

namespace tl {

std::string_view SessionStore::end_reason(const Session& s, Timestamp now) const {
  if (now - s.created > absolute_) return "lifetime";
  if (now - s.last_seen > idle_) return "idle";
  return {};
}

std::string SessionStore::create(const std::string& username, Timestamp now) {
  std::string id = random_urlsafe(32);
  std::lock_guard lock(mutex_);
  // Drop expired sessions now and then, so memory stays bounded by live sessions (the server's
  // sweep does it sooner; this holds without one).
  if (sessions_.size() % 1024 == 1023) {
    std::erase_if(sessions_, [&](const auto& kv) {
      const std::string_view reason = end_reason(kv.second, now);
      if (!reason.empty() && swept_.size() < 100'000) swept_.push_back({kv.second.username, reason});
      return !reason.empty();
    });
  }
  sessions_[sha256_hex(id)] = {username, now, now, now};
  return id;
}

std::optional<std::string> SessionStore::resolve(const std::string& session_id, Timestamp now, Ended* ended) {
  const std::string key = sha256_hex(session_id);
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return std::nullopt;
  if (const std::string_view reason = end_reason(it->second, now); !reason.empty()) {
    if (ended) *ended = {it->second.username, reason};
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_seen = now;
  return it->second.username;
}

std::vector<SessionStore::Ended> SessionStore::sweep(Timestamp now) {
  std::lock_guard lock(mutex_);
  std::vector<Ended> ended = std::move(swept_);
  swept_.clear();
  std::erase_if(sessions_, [&](const auto& kv) {
    const std::string_view reason = end_reason(kv.second, now);
    if (!reason.empty()) ended.push_back({kv.second.username, reason});
    return !reason.empty();
  });
  return ended;
}

bool SessionStore::active(const std::string& session_id, Timestamp now) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(sha256_hex(session_id));
  return it != sessions_.end() && end_reason(it->second, now).empty();
}

std::optional<Timestamp> SessionStore::authenticated_at(const std::string& session_id) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(sha256_hex(session_id));
  if (it == sessions_.end()) return std::nullopt;
  return it->second.authenticated;
}

void SessionStore::reauthenticated(const std::string& session_id, Timestamp now) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(sha256_hex(session_id));
  if (it != sessions_.end()) it->second.authenticated = now;
}

std::optional<std::string> SessionStore::remove(const std::string& session_id) {
  const std::string key = sha256_hex(session_id);
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return std::nullopt;
  std::string username = std::move(it->second.username);
  sessions_.erase(it);
  return username;
}

std::size_t SessionStore::remove_user(const std::string& username) {
  std::lock_guard lock(mutex_);
  return std::erase_if(sessions_, [&](const auto& kv) { return kv.second.username == username; });
}

std::size_t SessionStore::remove_user_except(const std::string& username, const std::string& keep) {
  const std::string kept = sha256_hex(keep);
  std::lock_guard lock(mutex_);
  return std::erase_if(sessions_, [&](const auto& kv) { return kv.second.username == username && kv.first != kept; });
}

std::vector<SessionStore::Ended> SessionStore::remove_all() {
  std::lock_guard lock(mutex_);
  std::vector<Ended> ended;
  ended.reserve(sessions_.size());
  for (auto& [key, session] : sessions_) ended.push_back({std::move(session.username), "server_stopped"});
  sessions_.clear();
  return ended;
}

}  // namespace tl
