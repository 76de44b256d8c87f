#include "service/standing.hpp"

#include "domain/user.hpp"

namespace tl {

Result<StreamCondition> standing_of(const ReadModel& model, const std::string& username, std::string_view group) {
  auto user = model.users().get(username);
  if (!user || !user->active) return Error::unauthenticated("Your account no longer exists.");
  if (user->disabled) return Error::forbidden("This account is disabled.");
  if (!user->in_group(group)) {
    return Error::forbidden("You need to be in the " + std::string(group) + " group for this.");
  }
  return StreamCondition{user_stream(user->username), user->version};
}

Result<std::optional<StreamCondition>> standing(const ReadModel& model, const RequestContext& ctx) {
  if (ctx.group.empty()) return std::optional<StreamCondition>{};
  auto of_actor = standing_of(model, ctx.actor.user, ctx.group);
  if (!of_actor) return std::move(of_actor).error();
  return std::optional<StreamCondition>{std::move(of_actor).value()};
}

}  // namespace tl
