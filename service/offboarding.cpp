#include "service/offboarding.hpp"

#include "domain/token.hpp"
#include "domain/user.hpp"

namespace tl {

Result<std::size_t> revoke_tokens(EventStore& store, ReadModel& model, const RequestContext& ctx,
                                  const std::string& typed_owner, const std::string& reason) {
  const std::string owner = canonical_username(typed_owner);
  // Checked before the first token too, so that a user without tokens gets the same answer.
  if (auto normalized = normalize_reason(reason); !normalized) return std::move(normalized).error();
  constexpr int kMaxAttempts = 16;
  std::size_t revoked = 0;
  for (const TokenRow& listed : model.tokens().list(owner)) {
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      auto row = model.tokens().get(listed.state.id);
      if (!row) break;  // deleted meanwhile
      auto deleted = decide_revoke(row->state, reason);
      if (!deleted) return std::move(deleted).error();
      // The data key goes with the token, as on an owner's delete.
      auto appended = store.append({row->state.id, row->state.version, {std::move(deleted).value()}, ctx.actor,
                                    ctx.source, owner, {{SideStore::keys, row->state.id, std::nullopt}}});
      if (appended) {
        ++revoked;
        break;
      }
      if (appended.error().code != ErrorCode::version_conflict) return std::move(appended).error();
    }
  }
  return revoked;
}

Result<std::size_t> delete_user(UserService& users, EventStore& store, ReadModel& model, const RequestContext& ctx,
                                const std::string& username) {
  if (auto removed = users.remove(ctx, username); !removed) return std::move(removed).error();
  return revoke_tokens(store, model, ctx, username, "user deleted");
}

}  // namespace tl
