// Who is acting and from where: what every command records with its events.
#pragma once

#include <string_view>

#include "domain/events.hpp"

namespace tl {

// actor.user is the authenticated user (or "system" / the operator of the admin tool).
struct RequestContext {
  Actor actor;
  Source source;
  // The group the route requires of the actor (http/route_table.cpp; a name of static storage),
  // empty when none: commands check it again at each decision (service/standing.hpp).
  std::string_view group;
};

}  // namespace tl
