#include "service/user_service.hpp"

#include "eventstore/passwords.hpp"
#include "service/password_policy.hpp"

namespace tl {
namespace {

constexpr SideStore kCredentials = SideStore::credentials;

Error busy() { return Error::unavailable("Too many password checks at once; try again in a moment."); }

}  // namespace

Result<UserState> UserService::authenticate(const std::string& typed, std::string_view password) const {
  const std::string username = canonical_username(typed);
  const Error refused = Error::unauthenticated("Wrong user name or password.");
  auto user = model_.users().get(username);
  auto hash = store_.get_side(kCredentials, username);
  if (!hash) return std::move(hash).error();
  HashSlots::Lease slot(slots_);
  if (!slot.held()) return busy();
  if (!user || !user->active || !*hash) {
    burn_password_verification(password);
    return refused;
  }
  if (!verify_password(**hash, password)) return refused;
  if (user->disabled) return Error::forbidden("This account is disabled; ask an admin to enable it.");
  return *user;
}

std::vector<UserState> UserService::list() const { return model_.users().list(); }

std::optional<UserState> UserService::get(const std::string& typed) const {
  auto user = find(typed);
  if (!user || user->disabled) return std::nullopt;
  return user;
}

std::optional<UserState> UserService::find(const std::string& typed) const {
  auto user = model_.users().get(canonical_username(typed));
  if (!user || !user->active) return std::nullopt;
  return user;
}

Result<UserState> UserService::create(const RequestContext& ctx, const std::string& typed,
                                      std::string_view password, std::vector<std::string> groups, bool must_change) {
  const std::string username = canonical_username(typed);
  const UserState existing = model_.users().get(username).value_or(UserState{});
  auto created = decide_create_user(existing, username, std::move(groups));
  if (!created) return std::move(created).error();
  created->must_change = must_change;
  if (auto valid = check_new_password(password); !valid) return std::move(valid).error();
  std::string hash;
  {
    HashSlots::Lease slot(slots_);
    if (!slot.held()) return busy();
    hash = hash_password(password);
  }
  auto appended = store_.append({user_stream(username), existing.version, {std::move(created).value()}, ctx.actor,
                                 ctx.source, {}, {{kCredentials, username, std::move(hash)}}});
  if (!appended) return std::move(appended).error();
  return *model_.users().get(username);
}

Result<UserState> UserService::set_groups(const RequestContext& ctx, const std::string& username,
                                          std::vector<std::string> groups) {
  return update(ctx, username, std::move(groups), std::nullopt);
}

Status UserService::set_password(const RequestContext& ctx, const std::string& username, std::string_view password) {
  auto updated = update(ctx, username, std::nullopt, std::string(password));
  if (!updated) return std::move(updated).error();
  return {};
}

Result<UserState> UserService::update(const RequestContext& ctx, const std::string& typed,
                                      std::optional<std::vector<std::string>> groups,
                                      std::optional<std::string> password, std::optional<bool> disabled,
                                      bool must_change) {
  const std::string username = canonical_username(typed);
  const UserState user = model_.users().get(username).value_or(UserState{});
  AppendRequest req{user_stream(username), user.version, {}, ctx.actor, ctx.source, {}, {}};
  if (groups) {
    auto changed = decide_change_groups(user, std::move(*groups), ctx.actor.user);
    if (!changed) return std::move(changed).error();
    req.events.emplace_back(std::move(changed).value());
  }
  if (password) {
    auto changed = decide_change_password(user, must_change);
    if (!changed) return std::move(changed).error();
    if (auto valid = check_new_password(*password); !valid) return std::move(valid).error();
    HashSlots::Lease slot(slots_);
    if (!slot.held()) return busy();
    req.events.emplace_back(*changed);
    req.side_writes.push_back({kCredentials, username, hash_password(*password)});
  }
  if (disabled) {
    auto changed = decide_set_disabled(user, *disabled, ctx.actor.user);
    if (!changed) return std::move(changed).error();
    if (*changed) req.events.push_back(std::move(**changed));
  }
  if (req.events.empty()) {
    if (disabled) return user;  // already so: nothing to record
    return Error::invalid_field("Give groups and/or password.");
  }
  auto appended = store_.append(std::move(req));
  if (!appended) return std::move(appended).error();
  return *model_.users().get(username);
}

Status UserService::remove(const RequestContext& ctx, const std::string& typed) {
  const std::string username = canonical_username(typed);
  const UserState user = model_.users().get(username).value_or(UserState{});
  auto deleted = decide_delete_user(user, ctx.actor.user);
  if (!deleted) return std::move(deleted).error();
  auto appended = store_.append(
      {user_stream(username), user.version, {*deleted}, ctx.actor, ctx.source, {}, {{kCredentials, username, std::nullopt}}});
  if (!appended) return std::move(appended).error();
  return {};
}

Status UserService::reauthenticate(const RequestContext& ctx, std::string_view password) {
  auto user = authenticate(ctx.actor.user, password);
  if (!user && user.error().code != ErrorCode::unauthenticated) return std::move(user).error();  // 503: busy
  if (!user) return Error{ErrorCode::reauthentication_required, "Wrong password."};
  auto appended = store_.append({user_stream(user->username), kAnyVersion, {UserReauthenticated{}}, ctx.actor,
                                 ctx.source, {}, {}});
  if (!appended) return std::move(appended).error();
  return {};
}

Status UserService::change_own_password(const RequestContext& ctx, std::string_view current, std::string_view next) {
  if (auto valid = check_new_password(next, "new"); !valid) return std::move(valid).error();
  auto user = authenticate(ctx.actor.user, current);
  if (!user) {
    if (user.error().code != ErrorCode::unauthenticated) return std::move(user).error();
    return Error{ErrorCode::reauthentication_required, "current: wrong password."};
  }
  auto changed = decide_change_password(*user);
  if (!changed) return std::move(changed).error();
  std::string hash;
  {
    HashSlots::Lease slot(slots_);
    if (!slot.held()) return busy();
    hash = hash_password(next);
  }
  auto appended = store_.append({user_stream(user->username), user->version, {*changed}, ctx.actor, ctx.source, {},
                                 {{kCredentials, user->username, std::move(hash)}}});
  if (!appended) return std::move(appended).error();
  return {};
}

Result<std::optional<std::string>> UserService::bootstrap_admin(const std::string& password) {
  if (!model_.users().empty()) return std::optional<std::string>{};
  const bool generated = password.empty();
  std::string chosen = generated ? random_password() : password;
  // 119 random bits pass the dictionary all but never; a draw that does not is simply redrawn.
  for (int i = 0; generated && i < 8 && !check_new_password(chosen); ++i) chosen = random_password();
  const RequestContext system{{"system", Via::system, {}}, {}};
  auto created = create(system, "admin", chosen, {std::string(kGroupAdmins)});
  if (!created) return std::move(created).error();
  return generated ? std::optional<std::string>{chosen} : std::optional<std::string>{""};
}

}  // namespace tl
