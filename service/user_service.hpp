// Accounts: sign-in, the admin's user management, and the first admin account. Password
// hashes live in the mutable "credentials" store, written in the same batch as the event.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "domain/result.hpp"
#include "domain/user.hpp"
#include "eventstore/event_store.hpp"
#include "projections/read_model.hpp"
#include "service/token_service.hpp"

namespace tl {

class UserService {
 public:
  UserService(EventStore& store, ReadModel& model) : store_(store), model_(model) {}

  // Slow on purpose (Argon2id). Unknown users and wrong passwords look the same.
  Result<UserState> authenticate(const std::string& username, std::string_view password) const;

  std::vector<UserState> list() const;
  std::optional<UserState> get(const std::string& username) const;
  Result<UserState> create(const RequestContext& ctx, const std::string& username, std::string_view password,
                           std::vector<std::string> groups);
  Result<UserState> set_groups(const RequestContext& ctx, const std::string& username,
                               std::vector<std::string> groups);
  Status set_password(const RequestContext& ctx, const std::string& username, std::string_view password);
  // Groups and/or password in one append: both change, or (on any error) neither.
  Result<UserState> update(const RequestContext& ctx, const std::string& username,
                           std::optional<std::vector<std::string>> groups, std::optional<std::string> password);
  Status remove(const RequestContext& ctx, const std::string& username);

  // Checks the password of a signed-in user again and records a UserReauthenticated event.
  Status reauthenticate(const RequestContext& ctx, std::string_view password);

  // When there are no users at all, creates "admin" (group admins) with `password`, or a
  // generated one that is returned so it can be shown once. nullopt when users exist.
  Result<std::optional<std::string>> bootstrap_admin(const std::string& password);

 private:
  EventStore& store_;
  ReadModel& model_;
};

}  // namespace tl
