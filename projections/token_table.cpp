#include "projections/token_table.hpp"

#include <simdjson.h>

#include <algorithm>
#include <mutex>

#include "eventstore/json_writer.hpp"

namespace tl {

void TokenTable::insert_locked(TokenRow row) {
  const std::string id = row.state.id;
  by_lookup_[row.state.code_lookup] = id;
  auto& owned = by_owner_[row.state.owner];
  if (std::find(owned.begin(), owned.end(), id) == owned.end()) owned.push_back(id);
  by_id_[id] = std::move(row);
}

void TokenTable::apply(const Record& record) {
  if (!is_token_event(record.event)) return;
  std::unique_lock lock(mutex_);
  dirty_.insert(record.stream);
  if (std::holds_alternative<TokenCreated>(record.event)) {
    TokenRow row;
    row.state.id = record.stream;
    row.created_seq = record.seq;
    tl::apply(row.state, record.event, record.at);
    row.state.code_sealed.clear();
    insert_locked(std::move(row));
    return;
  }
  auto it = by_id_.find(record.stream);
  if (it == by_id_.end()) return;  // an event after deletion cannot exist; nothing to fold
  tl::apply(it->second.state, record.event, record.at);
  if (it->second.state.deleted) {
    by_lookup_.erase(it->second.state.code_lookup);
    auto& owned = by_owner_[it->second.state.owner];
    owned.erase(std::remove(owned.begin(), owned.end(), record.stream), owned.end());
    if (owned.empty()) by_owner_.erase(it->second.state.owner);
    by_id_.erase(it);
  }
}

std::optional<TokenRow> TokenTable::get(const std::string& id) const {
  std::shared_lock lock(mutex_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

std::optional<TokenRow> TokenTable::find_by_lookup(const std::string& lookup_hash) const {
  std::shared_lock lock(mutex_);
  auto it = by_lookup_.find(lookup_hash);
  if (it == by_lookup_.end()) return std::nullopt;
  return by_id_.at(it->second);
}

std::vector<TokenRow> TokenTable::list(const std::string& owner) const {
  std::shared_lock lock(mutex_);
  std::vector<TokenRow> rows;
  auto it = by_owner_.find(owner);
  if (it == by_owner_.end()) return rows;
  for (auto id = it->second.rbegin(); id != it->second.rend(); ++id) rows.push_back(by_id_.at(*id));
  return rows;
}

std::size_t TokenTable::live_count(const std::string& owner, Timestamp now) const {
  std::shared_lock lock(mutex_);
  auto it = by_owner_.find(owner);
  if (it == by_owner_.end()) return 0;
  return static_cast<std::size_t>(std::count_if(it->second.begin(), it->second.end(),
                                                [&](const std::string& id) { return !by_id_.at(id).state.expired(now); }));
}

std::vector<TokenRow> TokenTable::select(const std::function<bool(const TokenState&)>& keep) const {
  std::shared_lock lock(mutex_);
  std::vector<TokenRow> rows;
  for (const auto& [id, row] : by_id_) {
    if (keep(row.state)) rows.push_back(row);
  }
  return rows;
}

std::size_t TokenTable::size() const {
  std::shared_lock lock(mutex_);
  return by_id_.size();
}

bool TokenTable::reserve(const std::string& owner, Timestamp now, std::size_t limit) {
  const std::size_t live = live_count(owner, now);
  std::unique_lock lock(mutex_);
  auto& held = reserved_[owner];
  if (live + held >= limit) return false;
  ++held;
  return true;
}

void TokenTable::release(const std::string& owner) {
  std::unique_lock lock(mutex_);
  auto it = reserved_.find(owner);
  if (it != reserved_.end() && --it->second == 0) reserved_.erase(it);
}

TokenTable::Changes TokenTable::take_changes() {
  std::unique_lock lock(mutex_);
  Changes changes;
  for (const auto& id : dirty_) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) {
      changes.removed.push_back(id);
    } else {
      changes.upserted.push_back(it->second);
    }
  }
  dirty_.clear();
  return changes;
}

void TokenTable::load_row(TokenRow row) {
  std::unique_lock lock(mutex_);
  insert_locked(std::move(row));
}

void TokenTable::clear() {
  std::unique_lock lock(mutex_);
  by_id_.clear();
  by_lookup_.clear();
  by_owner_.clear();
  dirty_.clear();
}

std::vector<TokenRow> TokenTable::all() const {
  std::shared_lock lock(mutex_);
  std::vector<TokenRow> rows;
  rows.reserve(by_id_.size());
  for (const auto& [id, row] : by_id_) rows.push_back(row);
  std::sort(rows.begin(), rows.end(), [](const TokenRow& a, const TokenRow& b) { return a.state.id < b.state.id; });
  return rows;
}

std::string TokenTable::encode(const TokenRow& row) {
  const auto& s = row.state;
  JsonWriter w;
  w.begin_object()
      .key("id").value(s.id)
      .key("owner").value(s.owner)
      .key("description").value(s.description)
      .key("timeout_days").value(s.timeout_days)
      .key("created_at").value(static_cast<std::int64_t>(s.created_at.time_since_epoch().count()))
      .key("updated_at").value(static_cast<std::int64_t>(s.updated_at.time_since_epoch().count()))
      .key("code_lookup").value(s.code_lookup)
      .key("version").value(s.version)
      .key("created_seq").value(row.created_seq)
      .key("expiry_notices").value(static_cast<std::uint64_t>(s.expiry_notices));
  if (s.last_used_at) {
    w.key("last_used_at").value(static_cast<std::int64_t>(s.last_used_at->time_since_epoch().count()));
    w.key("last_used_ip").value(s.last_used_ip);
  }
  w.end_object();
  return std::move(w).str();
}

std::optional<TokenRow> TokenTable::decode(std::string_view bytes) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(bytes);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return std::nullopt;
  TokenRow row;
  auto& s = row.state;
  std::string_view id, owner, description, lookup;
  std::int64_t timeout = 0, created = 0, updated = 0;
  if (doc["id"].get(id) || doc["owner"].get(owner) || doc["description"].get(description) ||
      doc["timeout_days"].get(timeout) || doc["created_at"].get(created) || doc["updated_at"].get(updated) ||
      doc["code_lookup"].get(lookup) || doc["version"].get(s.version) || doc["created_seq"].get(row.created_seq)) {
    return std::nullopt;
  }
  s.id = id;
  s.owner = owner;
  s.description = description;
  s.timeout_days = static_cast<int>(timeout);
  s.created_at = Timestamp{std::chrono::milliseconds{created}};
  s.updated_at = Timestamp{std::chrono::milliseconds{updated}};
  s.code_lookup = lookup;
  std::uint64_t notices = 0;
  if (!doc["expiry_notices"].get(notices)) s.expiry_notices = static_cast<unsigned>(notices);
  std::int64_t used = 0;
  std::string_view used_ip;
  if (!doc["last_used_at"].get(used) && !doc["last_used_ip"].get(used_ip)) {
    s.last_used_at = Timestamp{std::chrono::milliseconds{used}};
    s.last_used_ip = used_ip;
  }
  return row;
}

}  // namespace tl
