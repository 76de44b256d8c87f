// Offboarding: revoking every token of a user, and deleting a user (which revokes their tokens
// too). Shared by the server and tokenledger-admin, so both leave the same audited events.
#pragma once

#include <string>

#include "domain/result.hpp"
#include "eventstore/event_store.hpp"
#include "projections/read_model.hpp"
#include "service/token_service.hpp"
#include "service/user_service.hpp"

namespace tl {

// Deletes every live token of `owner`, each a TokenDeleted with `reason` and the acting admin.
Result<std::size_t> revoke_tokens(EventStore& store, ReadModel& model, const RequestContext& ctx,
                                  const std::string& owner, const std::string& reason);

// Deletes the user, then revokes their tokens with the reason "user deleted". Returns how many.
// The UserDeleted lands first and closes the user's stream: every token creation is conditioned
// on that stream's version (TokenService::create), so none lands after it, and every token that
// landed before it is listed and revoked here.
Result<std::size_t> delete_user(UserService& users, EventStore& store, ReadModel& model, const RequestContext& ctx,
                                const std::string& username);

}  // namespace tl
