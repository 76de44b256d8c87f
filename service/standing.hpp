// The acting user's standing, checked again at every decision of a command and carried to its
// append, so that a privilege revoked while the command was in flight (an admin removed from
// admins, a user disabled or deleted, through this node or another) refuses it.
#pragma once

#include <optional>

#include "domain/result.hpp"
#include "eventstore/event_log.hpp"
#include "projections/read_model.hpp"
#include "service/request_context.hpp"

namespace tl {

// When ctx.group is set (a route that needs a group, http/route_table.cpp): ctx.actor.user must
// exist, be enabled and be in ctx.group as the read model holds her now; the answer is her user
// stream at that version, the StreamCondition (eventstore/event_log.hpp) for the command's append,
// so that a UserDisabled, UserDeleted or group change landing between the decision and the append
// refuses the append (version_conflict: the command decides again and is refused here).
// Errors: unauthenticated (the account is gone), forbidden (disabled, or not in the group).
// Without a group (the admin tool, the system's own jobs): nullopt, no condition.
Result<std::optional<StreamCondition>> standing(const ReadModel& model, const RequestContext& ctx);

}  // namespace tl
