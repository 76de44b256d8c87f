// Token commands and queries for one authenticated user. A command (service/command.hpp) reads
// the state, lets the domain decide, and plans the append with the expected version; its result
// comes from the projection, which already holds the new events once the append is durable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/result.hpp"
#include "domain/token.hpp"
#include "eventstore/event_log.hpp"
#include "eventstore/token_secrets.hpp"
#include "projections/read_model.hpp"
#include "service/command.hpp"
#include "service/request_context.hpp"
#include "service/usage_tracker.hpp"

namespace tl {

struct Introspection {
  bool active = false;
  std::string owner;
  std::string token_id;
  std::int64_t exp = 0;  // unix seconds
  std::int64_t iat = 0;
};

class TokenService {
 public:
  TokenService(EventLog& store, ReadModel& model, const TokenSecrets& secrets, std::size_t max_live_tokens,
               UsageTracker* usage = nullptr)
      : store_(store), model_(model), secrets_(secrets), max_live_tokens_(max_live_tokens), usage_(usage) {}

  // Commands: run them with CommandRun (the server) or run_command (blocking). Their errors:
  // not_found for a token that is not the caller's current one, the domain's refusals, the
  // store's, and version_conflict once one step met kCommandAttempts conflicts.

  // A new token of ctx.actor.user, conditioned on her user stream's version (a deletion,
  // disabling or removal from api-tokens that lands first refuses it). `timeout_days`: its life.
  Command<TokenRow> create(const RequestContext& ctx, std::string description, std::int64_t timeout_days,
                           Timestamp now);
  std::vector<TokenRow> list(const std::string& owner) const;
  Result<TokenRow> get(const std::string& owner, const std::string& id) const;
  // The code, answered only once its TokenRevealed event is durable. Each decision reads the
  // sealed code and the wrapped data key at the stream version it appends at (before the append,
  // so a code that cannot be opened records no showing: internal); the expected version
  // guarantees that no event (no TokenDeleted, which destroys the data key) came between the reads
  // and the TokenRevealed, so the audit trail never shows a reveal after a deletion. The code
  // lives only in the plan (wiped when it goes) and in the result, which the caller wipes.
  Command<std::string> reveal(const RequestContext& ctx, const std::string& id);
  // With cmd.if_match a version conflict is final: precondition_failed.
  Command<TokenRow> update(const RequestContext& ctx, const std::string& id, const UpdateToken& cmd, Timestamp now);
  // Destroys the wrapped data key with the TokenDeleted, so the sealed code cannot be opened again.
  Command<void> remove(const RequestContext& ctx, const std::string& id);
  Result<std::vector<Record>> history(const std::string& owner, const std::string& id) const;

  // Live (not expired, not deleted) tokens of the current user named `owner`: the count the
  // admin's user list shows.
  std::size_t live_tokens(const std::string& owner, Timestamp now) const;

  // Anything but a well-formed code of a live, unexpired token whose owner exists as the user who
  // created it, is in api-tokens and is not disabled, is inactive.
  // An active answer counts as a use of the token, from `ip`.
  Introspection introspect(std::string_view code, Timestamp now, const std::string& ip);

 private:
  // A user name can be deleted and created again: a token belongs to the user whose UserCreated
  // came before its TokenCreated, so a later user of the name never inherits it.
  bool of_current_owner(const TokenRow& row) const;

  EventLog& store_;
  ReadModel& model_;
  const TokenSecrets& secrets_;
  std::size_t max_live_tokens_;
  UsageTracker* usage_;
};

}  // namespace tl
