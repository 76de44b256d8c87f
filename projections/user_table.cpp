#include "projections/user_table.hpp"

#include <simdjson.h>

#include <algorithm>
#include <mutex>

#include "common/json_writer.hpp"

namespace tl {

void UserTable::apply(const Record& record) {
  std::string username;
  if (const auto* created = std::get_if<UserCreated>(&record.event)) {
    username = created->username;
  } else if (std::holds_alternative<UserGroupsChanged>(record.event) ||
             std::holds_alternative<UserPasswordChanged>(record.event) ||
             std::holds_alternative<UserReauthenticated>(record.event) ||
             std::holds_alternative<UserDeleted>(record.event) || std::holds_alternative<UserDisabled>(record.event) ||
             std::holds_alternative<UserEnabled>(record.event)) {
    username = record.stream.substr(user_stream("").size());
  } else {
    return;
  }
  std::unique_lock lock(mutex_);
  UserState& user = users_[username];
  user.username = username;
  tl::apply(user, record.event, record.at);
  if (std::holds_alternative<UserCreated>(record.event)) user.created_seq = record.seq;
  dirty_.insert(username);
}

std::optional<UserState> UserTable::get(const std::string& username) const {
  std::shared_lock lock(mutex_);
  auto it = users_.find(username);
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

std::vector<UserState> UserTable::list() const {
  std::shared_lock lock(mutex_);
  std::vector<UserState> out;
  for (const auto& [name, user] : users_) {
    if (user.active) out.push_back(user);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.username < b.username; });
  return out;
}

bool UserTable::empty() const {
  std::shared_lock lock(mutex_);
  return users_.empty();
}

UserTable::Changes UserTable::take_changes() {
  std::unique_lock lock(mutex_);
  Changes changes;
  for (const auto& name : dirty_) changes.upserted.push_back(users_.at(name));
  dirty_.clear();
  return changes;
}

void UserTable::load_row(UserState row) {
  std::unique_lock lock(mutex_);
  std::string name = row.username;
  users_[name] = std::move(row);
}

void UserTable::clear() {
  std::unique_lock lock(mutex_);
  users_.clear();
  dirty_.clear();
}

std::string UserTable::encode(const UserState& user) {
  JsonWriter w;
  w.begin_object().key("username").value(user.username).key("groups").begin_array();
  for (const auto& g : user.groups) w.value(g);
  w.end_array()
      .key("active")
      .value(user.active)
      .key("version")
      .value(user.version)
      .key("created_at")
      .value(static_cast<std::int64_t>(user.created_at.time_since_epoch().count()))
      .key("disabled")
      .value(user.disabled)
      .key("created_seq")
      .value(user.created_seq);
  if (user.must_change_password) w.key("must_change_password").value(true);  // older rows lack it: false
  w.end_object();
  return std::move(w).str();
}

std::optional<UserState> UserTable::decode(std::string_view bytes) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(bytes);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return std::nullopt;
  UserState user;
  std::string_view name;
  if (doc["username"].get(name)) return std::nullopt;
  user.username = name;
  simdjson::ondemand::array groups;
  if (doc["groups"].get(groups)) return std::nullopt;
  for (auto g : groups) {
    std::string_view group;
    if (g.get(group)) return std::nullopt;
    user.groups.emplace_back(group);
  }
  std::int64_t created = 0;
  if (doc["active"].get(user.active) || doc["version"].get(user.version) || doc["created_at"].get(created)) {
    return std::nullopt;
  }
  user.created_at = Timestamp{std::chrono::milliseconds{created}};
  // Rows saved before accounts could be disabled have neither field: such a user was never
  // disabled, and created_seq stays 0 for ReadModel::load to look up in the user's stream.
  if (auto disabled = doc["disabled"].get_bool(); !disabled.error()) {
    user.disabled = disabled.value_unsafe();
  } else if (disabled.error() != simdjson::NO_SUCH_FIELD) {
    return std::nullopt;
  }
  if (auto seq = doc["created_seq"].get_uint64(); !seq.error()) {
    user.created_seq = seq.value_unsafe();
  } else if (seq.error() != simdjson::NO_SUCH_FIELD) {
    return std::nullopt;
  }
  bool must_change = false;
  if (auto found = doc["must_change_password"].get(must_change); found == simdjson::SUCCESS) {
    user.must_change_password = must_change;
  } else if (found != simdjson::NO_SUCH_FIELD) {
    return std::nullopt;
  }
  return user;
}

}  // namespace tl
