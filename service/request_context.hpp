// Who is acting and from where: what every command records with its events.
#pragma once

#include "domain/events.hpp"

namespace tl {

// actor.user is the authenticated user (or "system" / the operator of the admin tool).
struct RequestContext {
  Actor actor;
  Source source;
};

}  // namespace tl
