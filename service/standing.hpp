// The acting user's standing, checked again at every decision of a command and carried to its
// append, so that a privilege revoked while the command was in flight (an admin removed from
// admins, a user disabled or deleted, through this node or another) refuses it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "domain/result.hpp"
#include "eventstore/event_log.hpp"
#include "projections/read_model.hpp"
#include "service/request_context.hpp"

namespace tl {

// `username` as the read model holds her now must exist, be enabled and be in `group`; the answer
// is her user stream at that version, the StreamCondition (eventstore/event_log.hpp) for an
// append, so that a UserDisabled, UserDeleted or group change landing between the decision and
// the append refuses the append (version_conflict: the command decides again and is refused here).
// Errors: unauthenticated (the account is gone), forbidden (disabled, or not in the group).
Result<StreamCondition> standing_of(const ReadModel& model, const std::string& username, std::string_view group);

// The actor's standing_of in ctx.group, when a route that needs a group set it
// (http/route_table.cpp). Without a group (the admin tool, the system's own jobs): nullopt, no
// condition.
Result<std::optional<StreamCondition>> standing(const ReadModel& model, const RequestContext& ctx);

}  // namespace tl
