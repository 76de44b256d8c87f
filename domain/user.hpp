// The user aggregate: identity and group membership. The password hash is not part of it:
// it lives in a mutable credentials store beside the log, so deleting a user deletes it.
#pragma once

#include <array>
#include <cstdint>
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
inline constexpr std::array<std::string_view, 3> kKnownGroups = {kGroupApiTokens, kGroupAuditors,
                                                                 kGroupAdmins};
// NIST SP 800-63B §5.1.1.2 asks for at least 8; 12 leaves a margin against offline guessing.
inline constexpr std::size_t kMinPasswordLength = 12;  // code points
inline constexpr std::size_t kMaxUsernameLength = 64;   // bytes
inline constexpr std::size_t kMaxPasswordLength = 1024;

struct UserState {
  std::string username;
  std::vector<std::string> groups;  // sorted, unique, known
  bool active = false;              // created and not deleted since
  std::uint64_t version = 0;
  Timestamp created_at{};
  // Set with an admin's password (must_change): until she chooses her own, the user may only
  // change it, see herself and sign out.
  bool must_change_password = false;

  bool in_group(std::string_view group) const noexcept;
};

// The stream that holds a user's events.
std::string user_stream(std::string_view username);

void apply(UserState& state, const Event& event, Timestamp at);

Result<std::string> validate_username(std::string_view username);
Result<std::vector<std::string>> normalize_groups(std::vector<std::string> groups);
// Length only: 12 to 1024 characters (code points; at most 1024 bytes). The dictionary check is
// service/password_policy.hpp (it reads a file).
Status validate_password(std::string_view password);

Result<UserCreated> decide_create_user(const UserState& existing, std::string_view username,
                                       std::vector<std::string> groups);
Result<UserGroupsChanged> decide_change_groups(const UserState& user,
                                               std::vector<std::string> groups,
                                               std::string_view actor);
Result<UserPasswordChanged> decide_change_password(const UserState& user, bool must_change = false);
Result<UserDeleted> decide_delete_user(const UserState& user, std::string_view actor);

}  // namespace tl
