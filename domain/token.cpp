#include "domain/token.hpp"

#include <string>
#include <type_traits>

#include "domain/text_rules.hpp"

namespace tl {
namespace {

// Someone else's token and a deleted token look exactly like one that never existed.
Status check_visible(const TokenState& token, std::string_view actor) {
  if (!token.exists() || token.deleted || token.owner != actor) {
    return Error::not_found("No such token.");
  }
  return {};
}

}  // namespace

void apply(TokenState& state, const Event& event, Timestamp at) {
  std::visit(
      [&](const auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, TokenCreated>) {
          state.owner = e.owner;
          state.description = e.description;
          state.timeout_days = e.timeout_days;
          state.code_lookup = e.code_lookup;
          state.code_sealed = e.code_sealed;
          state.created_at = at;
          state.updated_at = at;
        } else if constexpr (std::is_same_v<E, TokenDescriptionChanged>) {
          state.description = e.description;
          state.updated_at = at;
        } else if constexpr (std::is_same_v<E, TokenTimeoutChanged>) {
          state.timeout_days = e.timeout_days;
          state.updated_at = at;
          state.expiry_notices = 0;
        } else if constexpr (std::is_same_v<E, TokenExpiryNotified>) {
          for (auto n : {ExpiryNotice::within_7d, ExpiryNotice::within_1d, ExpiryNotice::expired}) {
            if (notice_window(n) == e.window) state.expiry_notices |= static_cast<unsigned>(n);
          }
        } else if constexpr (std::is_same_v<E, TokenUsed>) {
          if (!state.last_used_at || e.used_at >= *state.last_used_at) {
            state.last_used_at = e.used_at;
            state.last_used_ip = e.ip;
          }
        } else if constexpr (std::is_same_v<E, TokenDeleted>) {
          state.deleted = true;
          state.code_sealed.clear();
          state.updated_at = at;
        }
      },
      event);
  ++state.version;
}

Result<std::string> normalize_description(std::string_view raw) {
  return normalize_line(raw, "description", kMaxDescriptionLength, "must not be empty.");
}

Result<std::string> normalize_reason(std::string_view raw) {
  return normalize_line(raw, "reason", kMaxReasonLength, "say why the tokens are revoked.");
}

Result<int> validate_timeout_days(std::int64_t days) {
  if (days < kMinTimeoutDays || days > kMaxTimeoutDays) {
    return Error::invalid_field("timeout: a whole number of days from 1 to 365.");
  }
  return static_cast<int>(days);
}

Result<TokenCreated> decide_create(const CreateToken& cmd, std::size_t live_tokens, std::size_t max_live_tokens) {
  auto description = normalize_description(cmd.description);
  if (!description) return std::move(description).error();
  auto days = validate_timeout_days(cmd.timeout_days);
  if (!days) return std::move(days).error();
  if (live_tokens >= max_live_tokens) {
    return Error::limit_exceeded("You already hold " + std::to_string(live_tokens) +
                                 " live tokens, the most allowed; delete one first.");
  }
  return TokenCreated{cmd.owner, std::move(description).value(), *days, cmd.code_lookup, cmd.code_sealed};
}

Result<std::vector<Event>> decide_update(const TokenState& token, const UpdateToken& cmd, std::string_view actor,
                                         Timestamp now) {
  if (auto visible = check_visible(token, actor); !visible) return std::move(visible).error();
  if (cmd.if_match && *cmd.if_match != token.version) {
    return Error::precondition_failed("The token changed since you read it (version " + std::to_string(token.version) +
                                      ").");
  }
  if (token.expired(now)) {
    return Error::token_expired("Expired tokens cannot be modified; delete it and create a new one.");
  }
  if (!cmd.description && !cmd.timeout_days) {
    return Error::invalid_field("Nothing to change: give a description and/or a timeout.");
  }
  std::vector<Event> events;
  if (cmd.description) {
    auto description = normalize_description(*cmd.description);
    if (!description) return std::move(description).error();
    if (*description != token.description) {
      events.emplace_back(TokenDescriptionChanged{std::move(description).value()});
    }
  }
  if (cmd.timeout_days) {
    auto days = validate_timeout_days(*cmd.timeout_days);
    if (!days) return std::move(days).error();
    if (token.created_at + Days{*days} <= now) {
      return Error::invalid_field("timeout: that timeout would already have ended; choose a longer one.");
    }
    if (*days != token.timeout_days) events.emplace_back(TokenTimeoutChanged{*days});
  }
  return events;
}

Result<TokenRevealed> decide_reveal(const TokenState& token, std::string_view actor) {
  if (auto visible = check_visible(token, actor); !visible) return std::move(visible).error();
  return TokenRevealed{};
}

Result<TokenDeleted> decide_delete(const TokenState& token, std::string_view actor, std::string reason) {
  if (auto visible = check_visible(token, actor); !visible) return std::move(visible).error();
  return TokenDeleted{std::move(reason)};
}

}  // namespace tl

namespace tl {

std::string_view notice_window(ExpiryNotice notice) noexcept {
  switch (notice) {
    case ExpiryNotice::within_7d:
      return "7d";
    case ExpiryNotice::within_1d:
      return "1d";
    case ExpiryNotice::expired:
      return "expired";
  }
  return "expired";
}

std::optional<ExpiryNotice> due_expiry_notice(const TokenState& token, Timestamp now) noexcept {
  if (!token.exists() || token.deleted) return std::nullopt;
  auto sent = [&](ExpiryNotice n) { return (token.expiry_notices & static_cast<unsigned>(n)) != 0; };
  const auto left = token.expires_at() - now;
  if (left <= Timestamp::duration::zero()) {
    if (sent(ExpiryNotice::expired)) return std::nullopt;
    return ExpiryNotice::expired;
  }
  if (left <= Days{1}) {
    if (sent(ExpiryNotice::within_1d)) return std::nullopt;
    return ExpiryNotice::within_1d;
  }
  if (left <= Days{7} && !sent(ExpiryNotice::within_7d)) return ExpiryNotice::within_7d;
  return std::nullopt;
}

Result<TokenDeleted> decide_revoke(const TokenState& token, std::string reason) {
  if (!token.exists() || token.deleted) return Error::not_found("No such token.");
  auto normalized = normalize_reason(reason);
  if (!normalized) return std::move(normalized).error();
  return TokenDeleted{std::move(normalized).value()};
}

}  // namespace tl
