// The user table: each user's groups, folded from the identity events.
#pragma once

#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "domain/user.hpp"
#include "eventstore/record.hpp"

namespace tl {

class UserTable {
 public:
  void apply(const Record& record);

  // The user's state; inactive (deleted) users are returned too, so a re-create continues
  // their stream at the right version.
  std::optional<UserState> get(const std::string& username) const;
  // Active users, by name.
  std::vector<UserState> list() const;
  bool empty() const;

  struct Changes {
    std::vector<UserState> upserted;
  };
  Changes take_changes();
  void load_row(UserState row);
  void clear();

  static std::string encode(const UserState& user);
  static std::optional<UserState> decode(std::string_view bytes);

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, UserState> users_;
  std::unordered_set<std::string> dirty_;
};

}  // namespace tl
