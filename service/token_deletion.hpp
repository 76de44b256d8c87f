// The append that deletes a token, shared by its owner's delete (TokenService::remove) and an
// admin's revocation (offboarding), so both destroy the wrapped data key the same way.
#pragma once

#include "domain/token.hpp"
#include "eventstore/event_log.hpp"
#include "service/request_context.hpp"

namespace tl {

// `deleted` (a TokenDeleted decided for `token` at its current version) appended at that version,
// with the token's wrapped data key deleted in the same batch: the sealed code can never be
// opened again (crypto-shredding; eventstore/shredder.hpp bounds when the old bytes are gone).
// `standing`: the actor's, from service/standing.hpp.
inline AppendRequest token_deletion(const TokenState& token, Event deleted, const RequestContext& ctx,
                                    std::optional<StreamCondition> standing) {
  return {.stream = token.id,
          .expected_version = token.version,
          .events = {std::move(deleted)},
          .actor = ctx.actor,
          .source = ctx.source,
          .owner = token.owner,
          .side_writes = {{SideStore::keys, token.id, std::nullopt}},
          .condition = std::move(standing)};
}

}  // namespace tl
