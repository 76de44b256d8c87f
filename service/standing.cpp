#include "service/standing.hpp"

#include <string>

#include "domain/user.hpp"

namespace tl {

Result<std::optional<StreamCondition>> standing(const ReadModel& model, const RequestContext& ctx) {
  if (ctx.group.empty()) return std::optional<StreamCondition>{};
  auto user = model.users().get(ctx.actor.user);
  if (!user || !user->active) return Error::unauthenticated("Your account no longer exists.");
  if (user->disabled) return Error::forbidden("This account is disabled.");
  if (!user->in_group(ctx.group)) {
    return Error::forbidden("You need to be in the " + std::string(ctx.group) + " group for this.");
  }
  return std::optional<StreamCondition>{StreamCondition{user_stream(user->username), user->version}};
}

}  // namespace tl
