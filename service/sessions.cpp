#include "service/sessions.hpp"

#include "eventstore/codec.hpp"
#include "eventstore/passwords.hpp"

namespace tl {

std::string SessionStore::create(const std::string& username, Timestamp now) {
  std::string id = random_urlsafe(32);
  std::lock_guard lock(mutex_);
  // Drop expired sessions now and then, so memory stays bounded by live sessions.
  if (sessions_.size() % 1024 == 1023) {
    std::erase_if(sessions_, [&](const auto& kv) {
      return now - kv.second.last_seen > idle_ || now - kv.second.created > absolute_;
    });
  }
  sessions_[sha256_hex(id)] = {username, now, now, now};
  return id;
}

std::optional<std::string> SessionStore::resolve(const std::string& session_id, Timestamp now) {
  const std::string key = sha256_hex(session_id);
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return std::nullopt;
  if (now - it->second.last_seen > idle_ || now - it->second.created > absolute_) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_seen = now;
  return it->second.username;
}

bool SessionStore::active(const std::string& session_id, Timestamp now) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(sha256_hex(session_id));
  return it != sessions_.end() && now - it->second.last_seen <= idle_ && now - it->second.created <= absolute_;
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

void SessionStore::remove(const std::string& session_id) {
  const std::string key = sha256_hex(session_id);
  std::lock_guard lock(mutex_);
  sessions_.erase(key);
}

void SessionStore::remove_user(const std::string& username) {
  std::lock_guard lock(mutex_);
  std::erase_if(sessions_, [&](const auto& kv) { return kv.second.username == username; });
}

void SessionStore::remove_user_except(const std::string& username, const std::string& keep) {
  const std::string kept = sha256_hex(keep);
  std::lock_guard lock(mutex_);
  std::erase_if(sessions_, [&](const auto& kv) { return kv.second.username == username && kv.first != kept; });
}

}  // namespace tl
