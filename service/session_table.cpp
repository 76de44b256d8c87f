#include "service/session_table.hpp"

#include <spdlog/spdlog.h>

#include <unordered_map>

#include "eventstore/event_log.hpp"

namespace tl {
namespace {

class MemoryTable final : public SessionTable {
 public:
  std::optional<StoredSession> get(const std::string& key) override {
    auto it = sessions_.find(key);
    if (it == sessions_.end()) return std::nullopt;
    return it->second;
  }
  bool put(const std::string& key, const StoredSession& session) override {
    sessions_[key] = session;
    return true;
  }
  bool erase(const std::string& key) override {
    sessions_.erase(key);
    return true;
  }
  Refreshed refresh(const std::string& key, const StoredSession& session) override {
    auto it = sessions_.find(key);
    if (it == sessions_.end()) return Refreshed::gone;
    it->second = session;
    return Refreshed::written;
  }
  std::vector<std::pair<std::string, StoredSession>> all() override { return {sessions_.begin(), sessions_.end()}; }
  bool shared() const override { return false; }
  bool sweeps() const override { return true; }

 private:
  std::unordered_map<std::string, StoredSession> sessions_;
};

constexpr std::string_view kFamily = "sessions";

std::int64_t ms(Timestamp t) { return t.time_since_epoch().count(); }
Timestamp at_ms(std::string_view be64) {
  return Timestamp{std::chrono::milliseconds(static_cast<std::int64_t>(decode_be64(be64)))};
}

std::string encode(const StoredSession& s) {
  return encode_be64(static_cast<std::uint64_t>(ms(s.created))) +
         encode_be64(static_cast<std::uint64_t>(ms(s.last_seen))) +
         encode_be64(static_cast<std::uint64_t>(ms(s.authenticated))) + s.username;
}

std::optional<StoredSession> decode(std::string_view v) {
  if (v.size() < 24) return std::nullopt;
  return StoredSession{std::string(v.substr(24)), at_ms(v.substr(0, 8)), at_ms(v.substr(8, 8)), at_ms(v.substr(16, 8))};
}

// Sessions this process has read or written are mirrored in memory, so that while the database is
// out of reach a signed-in user can still read (issue 19, item 3: a node serves reads from memory;
// writes fail on the log anyway). The mirror only answers when the database cannot: a sign-out on
// another node during an outage takes effect here when the database is back.
class SharedTable final : public SessionTable {
 public:
  explicit SharedTable(EventLog& log) : log_(log) {}
  std::optional<StoredSession> get(const std::string& key) override {
    auto value = log_.state().get(kFamily, key);
    if (!value) {
      auto it = mirror_.find(key);
      spdlog::warn("sessions: cannot be read ({}); {}", value.error().message,
                   it == mirror_.end() ? "treated as signed out" : "the copy in memory is used");
      if (it == mirror_.end()) return std::nullopt;
      return it->second;
    }
    std::optional<StoredSession> session = *value ? decode(**value) : std::nullopt;
    remember(key, session);
    return session;
  }
  bool put(const std::string& key, const StoredSession& session) override {
    auto batch = log_.state().new_batch();
    batch->put(kFamily, key, encode(session));
    if (!write(*batch)) return false;
    remember(key, session);
    return true;
  }
  Refreshed refresh(const std::string& key, const StoredSession& session) override {
    auto replaced = log_.state().replace_existing(kFamily, key, encode(session));
    if (!replaced) {
      spdlog::warn("sessions: a change was lost: {}", replaced.error().message);
      return Refreshed::refused;
    }
    remember(key, *replaced ? std::optional<StoredSession>(session) : std::nullopt);
    return *replaced ? Refreshed::written : Refreshed::gone;
  }
  bool erase(const std::string& key) override {
    mirror_.erase(key);  // ended here whether or not the database heard it; the caller says so
    auto batch = log_.state().new_batch();
    batch->erase(kFamily, key);
    return write(*batch);
  }
  std::vector<std::pair<std::string, StoredSession>> all() override {
    std::vector<std::pair<std::string, StoredSession>> out;
    const Status read = log_.state().scan(kFamily, {}, [&](std::string_view key, std::string_view value) {
      if (auto s = decode(value)) out.emplace_back(std::string(key), std::move(*s));
      return true;
    });
    if (!read) spdlog::warn("sessions: cannot be listed: {}", read.error().message);
    return out;
  }
  bool shared() const override { return true; }
  bool sweeps() const override { return log_.runs_singletons(); }

 private:
  // Bounds the mirror: sessions ended on other nodes leave it only when next looked up here.
  static constexpr std::size_t kMirrorMax = 100'000;

  bool write(StateBatch& batch) {
    if (Status s = log_.state().write(batch); !s) {
      spdlog::warn("sessions: a change was lost: {}", s.error().message);
      return false;
    }
    return true;
  }
  void remember(const std::string& key, const std::optional<StoredSession>& session) {
    if (!session) {
      mirror_.erase(key);
      return;
    }
    if (mirror_.size() >= kMirrorMax && !mirror_.contains(key)) mirror_.clear();
    mirror_[key] = *session;
  }
  EventLog& log_;
  std::unordered_map<std::string, StoredSession> mirror_;
};

}  // namespace

std::unique_ptr<SessionTable> memory_session_table() { return std::make_unique<MemoryTable>(); }

std::unique_ptr<SessionTable> shared_session_table(EventLog& log) { return std::make_unique<SharedTable>(log); }

}  // namespace tl
