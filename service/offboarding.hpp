// Offboarding: revoking every token of a user, and deleting a user (which revokes their tokens
// too). Commands (service/command.hpp) shared by the server and tokenledger-admin, so both leave
// the same audited events.
#pragma once

#include <cstddef>
#include <string>

#include "projections/read_model.hpp"
#include "service/command.hpp"
#include "service/request_context.hpp"
#include "service/user_service.hpp"

namespace tl {

// Deletes every live token of `owner` (as listed when the command first decides), one append
// each: a TokenDeleted with `reason` and the acting admin, the token's data key destroyed with it.
// A token deleted meanwhile is skipped. Its result: how many were revoked. An invalid reason is
// refused (invalid_field) before the first token, so that a user without tokens gets that answer.
Command<std::size_t> revoke_tokens(ReadModel& model, const RequestContext& ctx, const std::string& owner,
                                   const std::string& reason);

// Deletes the user, then revokes their tokens with the reason "user deleted". Its result: how many.
// The UserDeleted lands first and closes the user's stream: every token creation is conditioned
// on that stream's version (TokenService::create), so none lands after it, and every token that
// landed before it is listed and revoked here.
Command<std::size_t> delete_user(UserService& users, ReadModel& model, const RequestContext& ctx,
                                 const std::string& username);

}  // namespace tl
