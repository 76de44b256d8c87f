// Accounts: sign-in, the admin's user management, and the first admin account. Password
// hashes live in the mutable "credentials" store, written in the same batch as the event.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "domain/result.hpp"
#include "domain/user.hpp"
#include "eventstore/event_log.hpp"
#include "projections/read_model.hpp"
#include "service/command.hpp"
#include "service/hash_slots.hpp"
#include "service/request_context.hpp"

namespace tl {

class UserService {
 public:
  // `hash_slots`: how many password hashes may run at once (0: the number of cores, at least 2).
  UserService(EventLog& store, ReadModel& model, std::size_t hash_slots = 0)
      : store_(store), model_(model), slots_(hash_slots) {}

  // Slow on purpose (Argon2id). Unknown users and wrong passwords look the same (unauthenticated);
  // a disabled account is refused (forbidden) only after its password was right, so that the
  // account's state is told to no one who does not know the password; unavailable when no hash
  // slot came free within 2 s.
  Result<UserState> authenticate(const std::string& username, std::string_view password) const;

  std::vector<UserState> list() const;
  // A user who may act now: exists and is not disabled (what authentication resolves a session or
  // token owner with, so a sign-in that raced the disabling gets no access).
  std::optional<UserState> get(const std::string& username) const;
  // Any existing user, disabled or not (the admin's view).
  std::optional<UserState> find(const std::string& username) const;
  // Commands (service/command.hpp): run them with CommandRun (the server) or run_command. A
  // command that sets a password checks and hashes it (Argon2id, slow on purpose) once, when it
  // is made, on the caller's thread; a refused password or no free hash slot (unavailable) gives
  // a command that fails at once. The decision is checked first, so its refusals come before the
  // password's. A version conflict decides again (at most kCommandAttempts times).

  // Passwords pass service/password_policy.hpp. must_change: the user must choose her own
  // password before anything else (UserCreated / UserPasswordChanged carry it).
  Command<UserState> create(const RequestContext& ctx, const std::string& username, std::string_view password,
                            std::vector<std::string> groups, bool must_change = false);
  Command<UserState> set_groups(const RequestContext& ctx, const std::string& username,
                                std::vector<std::string> groups);
  Command<void> set_password(const RequestContext& ctx, const std::string& username, std::string_view password);
  // Groups, password and/or disabled in one append: all change, or (on any error) none.
  // disabled: UserDisabled / UserEnabled (nothing when already so); an admin cannot disable
  // herself (conflict). The caller ends the user's sessions when she is disabled.
  Command<UserState> update(const RequestContext& ctx, const std::string& username,
                            std::optional<std::vector<std::string>> groups, std::optional<std::string> password,
                            std::optional<bool> disabled = std::nullopt, bool must_change = false);
  Command<void> remove(const RequestContext& ctx, const std::string& username);

  // Checks the password of a signed-in user again (now, on the caller's thread) and records a
  // UserReauthenticated event (a version conflict, i.e. her stream closed, is final).
  Command<void> reauthenticate(const RequestContext& ctx, std::string_view password);

  // The signed-in user (ctx.actor) replaces her own password: `current` is checked like a sign-in
  // (403 reauthentication_required "current: wrong password." when wrong), `next` passes the
  // password rules (400 invalid_field naming "new"); both now, on the caller's thread. Records
  // UserPasswordChanged, clearing must_change, at the version the password was checked at (a
  // version conflict is final: the check would have to be made again).
  Command<void> change_own_password(const RequestContext& ctx, std::string_view current, std::string_view next);

  // When there are no users at all, creates "admin" (group admins) with `password`, or a
  // generated one that is returned so it can be shown once. nullopt when users exist. Blocks.
  Result<std::optional<std::string>> bootstrap_admin(const std::string& password);

 private:
  EventLog& store_;
  ReadModel& model_;
  mutable HashSlots slots_;
};

}  // namespace tl
