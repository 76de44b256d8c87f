#include "service/user_service.hpp"

#include "eventstore/passwords.hpp"
#include "service/password_policy.hpp"
#include "service/standing.hpp"

namespace tl {
namespace {

constexpr SideStore kCredentials = SideStore::credentials;

constexpr const char* kUserBusy = "The user is changing too often; try again.";

Error busy() { return Error::unavailable("Too many password checks at once; try again in a moment."); }

// What an admin's update changes; `password` only says whether (the hash is made once, apart).
struct UserChange {
  std::optional<std::vector<std::string>> groups;
  bool password = false;
  std::optional<bool> disabled;
  bool must_change = false;
};

// The append of `change` to `user`, checked in this order: groups, password, disabled. `hash`:
// the new password's hash (empty for the check made before hashing). No events: nothing to do.
Result<AppendRequest> update_request(const RequestContext& ctx, const UserState& user, const std::string& username,
                                     const UserChange& change, const std::string& hash) {
  AppendRequest request{
      .stream = user_stream(username), .expected_version = user.version, .actor = ctx.actor, .source = ctx.source};
  if (change.groups) {
    auto changed = decide_change_groups(user, *change.groups, ctx.actor.user);
    if (!changed) return std::move(changed).error();
    request.events.emplace_back(std::move(changed).value());
  }
  if (change.password) {
    auto changed = decide_change_password(user, change.must_change);
    if (!changed) return std::move(changed).error();
    request.events.emplace_back(*changed);
    request.side_writes.push_back({kCredentials, username, hash});
  }
  if (change.disabled) {
    auto changed = decide_set_disabled(user, *change.disabled, ctx.actor.user);
    if (!changed) return std::move(changed).error();
    if (*changed) request.events.push_back(std::move(**changed));
  }
  return request;
}

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

Command<UserState> UserService::create(const RequestContext& ctx, const std::string& typed, std::string_view password,
                                       std::vector<std::string> groups, bool must_change) {
  const std::string username = canonical_username(typed);
  // Reads the user as she stands now into `state` and decides.
  auto decide_created = [this, username, groups](UserState& state) {
    state = model_.users().get(username).value_or(UserState{});
    return decide_create_user(state, username, groups);
  };
  UserState before;  // the decision first: its refusals come before the password's
  if (auto created = decide_created(before); !created) return failed_command<UserState>(std::move(created).error());
  if (auto valid = check_new_password(password); !valid) return failed_command<UserState>(std::move(valid).error());
  std::string hash;
  {
    HashSlots::Lease slot(slots_);
    if (!slot.held()) return failed_command<UserState>(busy());
    hash = hash_password(password);
  }
  auto decide = [this, ctx, username, must_change, hash, decide_created]() -> Result<Plan<UserState>> {
    auto acting = standing(model_, ctx);
    if (!acting) return std::move(acting).error();
    UserState existing;
    auto created = decide_created(existing);
    if (!created) return std::move(created).error();
    created->must_change = must_change;
    AppendRequest request{.stream = user_stream(username),
                          .expected_version = existing.version,
                          .events = {std::move(created).value()},
                          .actor = ctx.actor,
                          .source = ctx.source,
                          .side_writes = {{kCredentials, username, hash}},
                          .condition = std::move(acting).value()};
    return Plan<UserState>{.append = std::move(request),
                           .then = [this, username] { return done<UserState>(*model_.users().get(username)); }};
  };
  return {std::move(decide), kUserBusy};
}

Command<UserState> UserService::set_groups(const RequestContext& ctx, const std::string& username,
                                           std::vector<std::string> groups) {
  return update(ctx, username, std::move(groups), std::nullopt);
}

Command<void> UserService::set_password(const RequestContext& ctx, const std::string& username,
                                        std::string_view password) {
  return and_then<void>(update(ctx, username, std::nullopt, std::string(password)),
                        [](const UserState&) { return done(); });
}

Command<UserState> UserService::update(const RequestContext& ctx, const std::string& typed,
                                       std::optional<std::vector<std::string>> groups,
                                       std::optional<std::string> password, std::optional<bool> disabled,
                                       bool must_change) {
  const std::string username = canonical_username(typed);
  const UserChange change{std::move(groups), password.has_value(), disabled, must_change};
  std::string hash;
  {
    // The decision first, then the password's rules, then its hash (once, whatever the retries).
    const UserState user = model_.users().get(username).value_or(UserState{});
    auto checked = update_request(ctx, user, username, change, {});
    if (!checked) return failed_command<UserState>(std::move(checked).error());
    if (password) {
      auto valid = check_new_password(*password);
      if (!valid) return failed_command<UserState>(std::move(valid).error());
      HashSlots::Lease slot(slots_);
      if (!slot.held()) return failed_command<UserState>(busy());
      hash = hash_password(*password);
    }
  }
  auto decide = [this, ctx, username, change, hash]() -> Result<Plan<UserState>> {
    auto acting = standing(model_, ctx);
    if (!acting) return std::move(acting).error();
    const UserState user = model_.users().get(username).value_or(UserState{});
    auto request = update_request(ctx, user, username, change, hash);
    if (!request) return std::move(request).error();
    if (request->events.empty()) {
      if (change.disabled) return Plan<UserState>{.then = [user] { return done<UserState>(user); }};  // already so
      return Error::invalid_field("Give groups and/or password.");
    }
    request->condition = std::move(acting).value();
    return Plan<UserState>{.append = std::move(request).value(),
                           .then = [this, username] { return done<UserState>(*model_.users().get(username)); }};
  };
  return {std::move(decide), kUserBusy};
}

Command<void> UserService::remove(const RequestContext& ctx, const std::string& typed) {
  const std::string username = canonical_username(typed);
  auto decide = [this, ctx, username]() -> Result<Plan<void>> {
    auto acting = standing(model_, ctx);
    if (!acting) return std::move(acting).error();
    const UserState user = model_.users().get(username).value_or(UserState{});
    auto deleted = decide_delete_user(user, ctx.actor.user);
    if (!deleted) return std::move(deleted).error();
    AppendRequest request{.stream = user_stream(username),
                          .expected_version = user.version,
                          .events = {*deleted},
                          .actor = ctx.actor,
                          .source = ctx.source,
                          .side_writes = {{kCredentials, username, std::nullopt}},
                          .condition = std::move(acting).value()};
    return Plan<void>{.append = std::move(request), .then = [] { return done(); }};
  };
  return {std::move(decide), kUserBusy};
}

Command<void> UserService::reauthenticate(const RequestContext& ctx, std::string_view password) {
  auto user = authenticate(ctx.actor.user, password);
  if (!user && user.error().code != ErrorCode::unauthenticated) return failed_command<void>(std::move(user).error());
  if (!user) return failed_command<void>(Error{ErrorCode::reauthentication_required, "Wrong password."});
  AppendRequest request{.stream = user_stream(user->username),
                        .expected_version = kAnyVersion,
                        .events = {UserReauthenticated{}},
                        .actor = ctx.actor,
                        .source = ctx.source};
  auto decide = [request]() -> Result<Plan<void>> {
    return Plan<void>{.append = request, .then = [] { return done(); }, .conflict_final = true};
  };
  return {std::move(decide), kUserBusy};
}

Command<void> UserService::change_own_password(const RequestContext& ctx, std::string_view current,
                                               std::string_view next) {
  if (auto valid = check_new_password(next, "new"); !valid) return failed_command<void>(std::move(valid).error());
  auto user = authenticate(ctx.actor.user, current);
  if (!user) {
    if (user.error().code != ErrorCode::unauthenticated) return failed_command<void>(std::move(user).error());
    return failed_command<void>(Error{ErrorCode::reauthentication_required, "current: wrong password."});
  }
  auto changed = decide_change_password(*user);
  if (!changed) return failed_command<void>(std::move(changed).error());
  std::string hash;
  {
    HashSlots::Lease slot(slots_);
    if (!slot.held()) return failed_command<void>(busy());
    hash = hash_password(next);
  }
  // Decided once: the current password was checked at this version.
  AppendRequest request{.stream = user_stream(user->username),
                        .expected_version = user->version,
                        .events = {*changed},
                        .actor = ctx.actor,
                        .source = ctx.source,
                        .side_writes = {{kCredentials, user->username, std::move(hash)}}};
  auto decide = [request]() -> Result<Plan<void>> {
    return Plan<void>{.append = request, .then = [] { return done(); }, .conflict_final = true};
  };
  return {std::move(decide), kUserBusy};
}

Result<std::optional<std::string>> UserService::bootstrap_admin(const std::string& password) {
  if (!model_.users().empty()) return std::optional<std::string>{};
  const bool generated = password.empty();
  const std::string chosen = generated ? random_acceptable_password() : password;
  const RequestContext system{{"system", Via::system, {}}, {}};
  auto created = run_command(store_, create(system, "admin", chosen, {std::string(kGroupAdmins)}));
  if (!created) return std::move(created).error();
  return generated ? std::optional<std::string>{chosen} : std::optional<std::string>{""};
}

}  // namespace tl
