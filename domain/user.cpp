#include "domain/user.hpp"

#include <algorithm>
#include <type_traits>

#include "domain/text_rules.hpp"

namespace tl {

bool UserState::in_group(std::string_view group) const noexcept {
  return active && std::find(groups.begin(), groups.end(), group) != groups.end();
}

bool UserState::may_hold_tokens() const noexcept { return !disabled && in_group(kGroupApiTokens); }

std::string user_stream(std::string_view username) { return "user:" + std::string(username); }

void apply(UserState& state, const Event& event, Timestamp at) {
  std::visit(
      [&](const auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, UserCreated>) {
          state.username = e.username;
          state.groups = e.groups;
          state.active = true;
          state.disabled = false;
          state.created_at = at;
          state.must_change_password = e.must_change;
        } else if constexpr (std::is_same_v<E, UserGroupsChanged>) {
          state.groups = e.groups;
        } else if constexpr (std::is_same_v<E, UserPasswordChanged>) {
          state.must_change_password = e.must_change;
        } else if constexpr (std::is_same_v<E, UserDeleted>) {
          state.active = false;
          state.groups.clear();
        } else if constexpr (std::is_same_v<E, UserDisabled>) {
          state.disabled = true;
        } else if constexpr (std::is_same_v<E, UserEnabled>) {
          state.disabled = false;
        }
      },
      event);
  ++state.version;
}

Result<std::string> validate_username(std::string_view raw) {
  auto line = normalize_line(raw, "username", kMaxUsernameLength, "required.");
  if (!line) return std::move(line).error();
  const std::string username = fold_case(*line);
  auto ok_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  };
  if (username.empty() || username.size() > kMaxUsernameLength ||
      !std::all_of(username.begin(), username.end(), ok_char) ||
      !((username[0] >= 'a' && username[0] <= 'z') || (username[0] >= '0' && username[0] <= '9'))) {
    return Error::invalid_field(
        "username: 1 to 64 characters of a-z (case does not matter), 0-9, '.', '_' or '-', starting with a letter "
        "or digit.");
  }
  return username;
}

std::string canonical_username(std::string_view raw) {
  if (!utf8_length(raw)) return std::string(raw);  // validate_username names the fault
  return std::string(trim(fold_case(raw)));
}

Result<std::vector<std::string>> normalize_groups(std::vector<std::string> groups) {
  for (const auto& g : groups) {
    if (std::find(kKnownGroups.begin(), kKnownGroups.end(), g) == kKnownGroups.end()) {
      return Error::invalid_field("groups: unknown group '" + g + "'; known groups are api-tokens, auditors, admins.");
    }
  }
  std::sort(groups.begin(), groups.end());
  groups.erase(std::unique(groups.begin(), groups.end()), groups.end());
  return groups;
}

Status validate_password(std::string_view password) {
  // Characters as a person counts them: UTF-8 code points, not bytes.
  const auto chars = static_cast<std::size_t>(std::count_if(
      password.begin(), password.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
  if (chars < kMinPasswordLength) return Error::invalid_field("password: at least 12 characters.");
  if (password.size() > kMaxPasswordLength) return Error::invalid_field("password: at most 1024 bytes.");
  return {};
}

Result<UserCreated> decide_create_user(const UserState& existing, std::string_view username,
                                       std::vector<std::string> groups) {
  auto name = validate_username(username);
  if (!name) return std::move(name).error();
  if (existing.active) return Error::conflict("A user named '" + *name + "' already exists.");
  auto normalized = normalize_groups(std::move(groups));
  if (!normalized) return std::move(normalized).error();
  return UserCreated{std::move(name).value(), std::move(normalized).value()};
}

Result<UserGroupsChanged> decide_change_groups(const UserState& user, std::vector<std::string> groups,
                                               std::string_view actor) {
  if (!user.active) return Error::not_found("No such user.");
  auto normalized = normalize_groups(std::move(groups));
  if (!normalized) return std::move(normalized).error();
  const bool drops_own_admin = user.username == actor && user.in_group(kGroupAdmins) &&
                               std::find(normalized->begin(), normalized->end(), kGroupAdmins) == normalized->end();
  if (drops_own_admin) {
    return Error::conflict("You cannot remove yourself from admins; ask another admin.");
  }
  return UserGroupsChanged{std::move(normalized).value()};
}

Result<UserPasswordChanged> decide_change_password(const UserState& user, bool must_change) {
  if (!user.active) return Error::not_found("No such user.");
  return UserPasswordChanged{must_change};
}

Result<UserDeleted> decide_delete_user(const UserState& user, std::string_view actor) {
  if (!user.active) return Error::not_found("No such user.");
  if (user.username == actor) return Error::conflict("You cannot delete your own account.");
  return UserDeleted{};
}

Result<std::optional<Event>> decide_set_disabled(const UserState& user, bool disabled, std::string_view actor) {
  if (!user.active) return Error::not_found("No such user.");
  if (disabled && user.username == actor) {
    return Error::conflict("disabled: you cannot disable your own account; ask another admin.");
  }
  if (user.disabled == disabled) return std::optional<Event>{};
  if (disabled) return std::optional<Event>{UserDisabled{}};
  return std::optional<Event>{UserEnabled{}};
}

}  // namespace tl
