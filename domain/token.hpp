// The token aggregate: its state folded from its events, and the decisions that turn a
// command into new events. Pure: the clock, the code material and counts are passed in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/events.hpp"
#include "domain/result.hpp"
#include "domain/time.hpp"

namespace tl {

inline constexpr int kMinTimeoutDays = 1;
inline constexpr int kMaxTimeoutDays = 365;
inline constexpr std::size_t kMaxDescriptionLength = 200;
inline constexpr std::size_t kMaxReasonLength = 500;  // code points (issue 12)

struct TokenState {
  std::string id;
  std::string owner;
  std::string description;
  int timeout_days = 0;
  Timestamp created_at{};
  Timestamp updated_at{};
  std::string code_lookup;
  std::string code_sealed;
  bool deleted = false;
  std::uint64_t version = 0;  // events in the token's stream, reveals included
  std::optional<Timestamp> last_used_at;
  std::string last_used_ip;
  unsigned expiry_notices = 0;  // ExpiryNotice bits already sent for the current timeout

  bool exists() const noexcept { return version > 0; }
  Timestamp expires_at() const noexcept { return created_at + Days{timeout_days}; }
  bool expired(Timestamp now) const noexcept { return now >= expires_at(); }
};

// Folds one event of the token's stream, recorded at `at`, into `state`.
void apply(TokenState& state, const Event& event, Timestamp at);

// The description under normalize_line's rules (domain/text_rules.hpp), at most
// kMaxDescriptionLength code points, or invalid_field naming "description".
Result<std::string> normalize_description(std::string_view raw);
// A revocation's reason under normalize_line's rules, at most kMaxReasonLength code points;
// invalid_field naming "reason".
Result<std::string> normalize_reason(std::string_view raw);
// The timeout as whole days in [1, 365], or invalid_field.
Result<int> validate_timeout_days(std::int64_t days);

struct CreateToken {
  std::string owner;
  std::string description;  // as typed
  std::int64_t timeout_days = 0;
  std::string code_lookup;
  std::string code_sealed;
};

// `live_tokens` is how many unexpired, undeleted tokens the owner holds now.
Result<TokenCreated> decide_create(const CreateToken& cmd, std::size_t live_tokens, std::size_t max_live_tokens);

struct UpdateToken {
  std::optional<std::string> description;
  std::optional<std::int64_t> timeout_days;
  std::optional<std::uint64_t> if_match;  // expected version, from If-Match
};

// Zero, one or two events (description and/or timeout changed); none when nothing differs.
Result<std::vector<Event>> decide_update(const TokenState& token, const UpdateToken& cmd, std::string_view actor,
                                         Timestamp now);
Result<TokenRevealed> decide_reveal(const TokenState& token, std::string_view actor);
Result<TokenDeleted> decide_delete(const TokenState& token, std::string_view actor, std::string reason = {});
// Expiry warnings: once when the token enters the last 7 days, once in the last day, once
// when it has expired. Changing the timeout starts them over.
enum class ExpiryNotice : unsigned { within_7d = 1, within_1d = 2, expired = 4 };
std::string_view notice_window(ExpiryNotice notice) noexcept;
// The most urgent notice due at `now` that was not sent yet.
std::optional<ExpiryNotice> due_expiry_notice(const TokenState& token, Timestamp now) noexcept;

// An admin's revocation (offboarding): any owner's live token, with a reason that
// normalize_reason accepts (stored as it returns it).
Result<TokenDeleted> decide_revoke(const TokenState& token, std::string reason);

}  // namespace tl
