// Token commands and queries for one authenticated user: read the state, let the domain
// decide, append with the expected version (retrying when another writer got there first),
// and answer from the projection, which already holds the new events.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/result.hpp"
#include "domain/token.hpp"
#include "eventstore/event_store.hpp"
#include "eventstore/token_secrets.hpp"
#include "projections/read_model.hpp"
#include "service/usage_tracker.hpp"

namespace tl {

// Who is acting and from where; actor.user is the authenticated user.
struct RequestContext {
  Actor actor;
  Source source;
};

struct Introspection {
  bool active = false;
  std::string owner;
  std::string token_id;
  std::int64_t exp = 0;  // unix seconds
  std::int64_t iat = 0;
};

// A reveal decided but not yet recorded: its TokenRevealed append, and the code, opened from the
// sealed code and wrapped data key read at the same stream version (before the append, so a code
// that cannot be opened records no showing). Wiped when the plan is destroyed.
struct RevealPlan {
  AppendRequest append;
  std::string code;
  RevealPlan() = default;
  RevealPlan(AppendRequest a, std::string c) : append(std::move(a)), code(std::move(c)) {}
  RevealPlan(const RevealPlan&) = default;  // the server's continuation is a std::function
  RevealPlan& operator=(const RevealPlan&) = default;
  RevealPlan(RevealPlan&&) = default;
  RevealPlan& operator=(RevealPlan&&) = default;
  ~RevealPlan();
};

class TokenService {
 public:
  TokenService(EventStore& store, ReadModel& model, const TokenSecrets& secrets, std::size_t max_live_tokens,
               UsageTracker* usage = nullptr)
      : store_(store), model_(model), secrets_(secrets), max_live_tokens_(max_live_tokens), usage_(usage) {}

  Result<TokenRow> create(const RequestContext& ctx, std::string description, std::int64_t timeout_days,
                          Timestamp now);
  std::vector<TokenRow> list(const std::string& owner) const;
  Result<TokenRow> get(const std::string& owner, const std::string& id) const;
  // The code, answered only once its TokenRevealed event is durable. Blocks on the append.
  Result<std::string> reveal(const RequestContext& ctx, const std::string& id);
  // reveal() in two halves, for callers that do not park a thread on the fsync: decide and read
  // and open the code (an error, with nothing recorded, when it does not open), then append the
  // plan's event (expected version: the one read here), then hand out the code only if that
  // append succeeded. The expected version guarantees that no
  // event (no TokenDeleted, which destroys the data key) came between the reads and the
  // TokenRevealed, so the audit trail never shows a reveal after a deletion. On a version
  // conflict, plan again (kRevealAttempts at most).
  Result<RevealPlan> plan_reveal(const RequestContext& ctx, const std::string& id) const;
  Result<std::string> open_revealed(const RevealPlan& plan) const;
  static constexpr int kRevealAttempts = 16;
  Result<TokenRow> update(const RequestContext& ctx, const std::string& id, const UpdateToken& cmd, Timestamp now);
  Status remove(const RequestContext& ctx, const std::string& id);
  Result<std::vector<Record>> history(const std::string& owner, const std::string& id) const;

  // Live (not expired, not deleted) tokens of the current user named `owner`: the count the
  // admin's user list shows.
  std::size_t live_tokens(const std::string& owner, Timestamp now) const;

  // Anything but a well-formed code of a live, unexpired token whose owner exists as the user who
  // created it, is in api-tokens and is not disabled, is inactive.
  // An active answer counts as a use of the token, from `ip`.
  Introspection introspect(std::string_view code, Timestamp now, const std::string& ip);

  // Offboarding: deletes every token of `owner`, each a TokenDeleted with the reason and the
  // acting admin. Returns how many were revoked.
  Result<std::size_t> revoke_all(const RequestContext& ctx, const std::string& owner, const std::string& reason);

 private:
  // A user name can be deleted and created again: a token belongs to the user whose UserCreated
  // came before its TokenCreated, so a later user of the name never inherits it.
  bool of_current_owner(const TokenRow& row) const;

  EventStore& store_;
  ReadModel& model_;
  const TokenSecrets& secrets_;
  std::size_t max_live_tokens_;
  UsageTracker* usage_;
};

}  // namespace tl
