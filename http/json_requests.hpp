// Decoders of request bodies. Each refuses what is not exactly its shape: malformed JSON
// (invalid_json), a wrong type or value (invalid_field), a field that cannot be set or is not
// known (unknown_field), a repeated field (invalid_json).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.hpp"

namespace tl {

struct LoginBody {
  std::string username;
  std::string password;
};
struct CreateTokenBody {
  std::string description;
  std::int64_t timeout_days = 0;
};
struct UpdateTokenBody {
  std::optional<std::string> description;
  std::optional<std::int64_t> timeout_days;
};
struct CreateUserBody {
  std::string username;
  std::string password;
  std::vector<std::string> groups;
  bool must_change = false;
};
struct PatchUserBody {
  std::optional<std::vector<std::string>> groups;
  std::optional<std::string> password;
  std::optional<bool> disabled;  // true: UserDisabled, false: UserEnabled
  bool must_change = false;      // only with password
};
// PATCH /api/v1/me/password {"current": "…", "new": "…"}
struct ChangePasswordBody {
  std::string current;
  std::string next;
};

// POST /api/v1/admin/backups {"include_keys": false}: the field is optional (default false).
struct CreateBackupBody {
  bool include_keys = false;
};

// POST /api/v1/audit/cosignatures {"tree_size": N, "cosignature": "— name base64", "public_key": "hex"}
// (c2sp.org/tlog-cosignature); every field required.
struct CosignatureBody {
  std::uint64_t tree_size = 0;
  std::string cosignature;
  std::string public_key;
};

// The username comes back as canonical_username (domain/user.hpp) makes it.
Result<LoginBody> parse_login(std::string_view body);
Result<CreateTokenBody> parse_create_token(std::string_view body);
Result<UpdateTokenBody> parse_update_token(std::string_view body);
Result<CreateUserBody> parse_create_user(std::string_view body);
Result<PatchUserBody> parse_patch_user(std::string_view body);
Result<ChangePasswordBody> parse_change_password(std::string_view body);
// {"password": "…"}
Result<std::string> parse_reauth(std::string_view body);
// {"reason": "…"}
Result<std::string> parse_revoke(std::string_view body);
// {"token": "…"}
Result<std::string> parse_introspect_json(std::string_view body);
// token=… (application/x-www-form-urlencoded, RFC 7662 §2.1); a second `token` parameter is
// refused (invalid_field naming token), as the JSON twin refuses a repeated field.
Result<std::string> parse_introspect_form(std::string_view body);
Result<CosignatureBody> parse_cosignature(std::string_view body);
Result<CreateBackupBody> parse_create_backup(std::string_view body);

}  // namespace tl
