#include "service/offboarding.hpp"

#include <memory>
#include <vector>

#include "domain/token.hpp"
#include "domain/user.hpp"
#include "service/standing.hpp"
#include "service/token_deletion.hpp"

namespace tl {
namespace {

// The tokens listed at the start and how far the revocation has come; shared by its steps.
struct Revocation {
  std::vector<std::string> ids;
  std::size_t at = 0;
  std::size_t revoked = 0;
};

// Revokes ids[at] (skipped when deleted meanwhile), then the rest; done after the last.
Next<std::size_t> revoke_from(ReadModel& model, const RequestContext& ctx, const std::string& owner,
                              const std::string& reason, std::shared_ptr<Revocation> state) {
  if (state->at == state->ids.size()) return done<std::size_t>(state->revoked);
  auto decide = [&model, ctx, owner, reason, state]() -> Result<Plan<std::size_t>> {
    auto acting = standing(model, ctx);  // the admin's, checked again at each token
    if (!acting) return std::move(acting).error();
    const std::string& id = state->ids[state->at];
    auto after = [&model, ctx, owner, reason, state](bool revoked) {
      return [&model, ctx, owner, reason, state, revoked]() {
        state->revoked += revoked ? 1 : 0;
        ++state->at;
        return revoke_from(model, ctx, owner, reason, state);
      };
    };
    auto row = model.tokens().get(id);
    if (!row) return Plan<std::size_t>{.then = after(false)};  // deleted meanwhile
    auto deleted = decide_revoke(row->state, reason);
    if (!deleted) return std::move(deleted).error();
    // The data key goes with the token, as on an owner's delete.
    AppendRequest request = token_deletion(row->state, std::move(deleted).value(), ctx, std::move(acting).value());
    return Plan<std::size_t>{.append = std::move(request), .then = after(true)};
  };
  return next_step(Command<std::size_t>{std::move(decide), "The token is changing too often; try again."});
}

}  // namespace

Command<std::size_t> revoke_tokens(ReadModel& model, const RequestContext& ctx, const std::string& typed_owner,
                                   const std::string& reason) {
  const std::string owner = canonical_username(typed_owner);
  auto decide = [&model, ctx, owner, reason]() -> Result<Plan<std::size_t>> {
    // Checked before the first token too, so that a user without tokens gets the same answer.
    if (auto normalized = normalize_reason(reason); !normalized) return std::move(normalized).error();
    auto state = std::make_shared<Revocation>();
    for (const TokenRow& listed : model.tokens().list(owner)) state->ids.push_back(listed.state.id);
    return Plan<std::size_t>{
        .then = [&model, ctx, owner, reason, state] { return revoke_from(model, ctx, owner, reason, state); }};
  };
  return {std::move(decide), {}};
}

Command<std::size_t> delete_user(UserService& users, ReadModel& model, const RequestContext& ctx,
                                 const std::string& username) {
  return and_then<std::size_t>(users.remove(ctx, username), [&model, ctx, username]() {
    return next_step(revoke_tokens(model, ctx, username, "user deleted"));
  });
}

}  // namespace tl
