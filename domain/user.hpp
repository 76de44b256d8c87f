// The user aggregate: identity and group membership. The password hash is not part of it:
// it lives in a mutable credentials store beside the log, so deleting a user deletes it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/events.hpp"
#include "domain/result.hpp"
#include "domain/time.hpp"

namespace tl {

inline constexpr std::string_view kGroupApiTokens = "api-tokens";
inline constexpr std::string_view kGroupAuditors = "auditors";
inline constexpr std::string_view kGroupAdmins = "admins";
inline constexpr std::array<std::string_view, 3> kKnownGroups = {kGroupApiTokens, kGroupAuditors, kGroupAdmins};
// NIST SP 800-63B §5.1.1.2 asks for at least 8; 12 leaves a margin against offline guessing.
inline constexpr std::size_t kMinPasswordLength = 12;  // code points
inline constexpr std::size_t kMaxUsernameLength = 64;  // bytes
inline constexpr std::size_t kMaxPasswordLength = 1024;

struct UserState {
  std::string username;
  std::vector<std::string> groups;  // sorted, unique, known
  bool active = false;              // created and not deleted since
  bool disabled = false;            // UserDisabled without a UserEnabled since (reset by UserCreated)
  // The seq of the UserCreated that began this incarnation of the name: the user's identity. Set
  // by the projection (apply() sees no seq). A token is this user's only if created after it.
  std::uint64_t created_seq = 0;
  std::uint64_t version = 0;
  Timestamp created_at{};
  // Set with an admin's password (must_change): until she chooses her own, the user may only
  // change it, see herself and sign out.
  bool must_change_password = false;

  bool in_group(std::string_view group) const noexcept;
  // May hold live API tokens now: exists, not disabled, in api-tokens.
  bool may_hold_tokens() const noexcept;
};

// The stream that holds a user's events.
std::string user_stream(std::string_view username);

void apply(UserState& state, const Event& event, Timestamp at);

// A user name as typed, made valid (normalize_line: no invisible, bidi or control characters,
// trimmed) and case-folded, then held to 1–64 of a-z, 0-9, '.', '_', '-' starting with a letter
// or digit. Returns the folded name, the one stored and the one streams are named by; invalid_field
// naming "username" otherwise.
Result<std::string> validate_username(std::string_view username);
// The form a user name is looked up in (sign-in, /users/{u}, the admin tool, token owners): NFC,
// case-folded, trimmed. Names in the log are stored folded already, so "ALICE" finds "alice".
std::string canonical_username(std::string_view raw);
Result<std::vector<std::string>> normalize_groups(std::vector<std::string> groups);
// Length only: 12 to 1024 characters (code points; at most 1024 bytes). The dictionary check is
// service/password_policy.hpp (it reads a file).
Status validate_password(std::string_view password);

Result<UserCreated> decide_create_user(const UserState& existing, std::string_view username,
                                       std::vector<std::string> groups);
Result<UserGroupsChanged> decide_change_groups(const UserState& user, std::vector<std::string> groups,
                                               std::string_view actor);
Result<UserPasswordChanged> decide_change_password(const UserState& user, bool must_change = false);
Result<UserDeleted> decide_delete_user(const UserState& user, std::string_view actor);
// {"disabled": true|false}: UserDisabled / UserEnabled, or nothing (nullopt) when the account
// already is so. Errors: not_found (no such user), conflict (an admin disabling herself: there
// would be no way back for her, and the last enabled admin is always the one acting).
Result<std::optional<Event>> decide_set_disabled(const UserState& user, bool disabled, std::string_view actor);

}  // namespace tl
