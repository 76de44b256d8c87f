#include "service/token_service.hpp"

#include <sodium.h>

#include "eventstore/passwords.hpp"
#include "service/standing.hpp"
#include "service/token_deletion.hpp"

namespace tl {
namespace {

constexpr const char* kTokenBusy = "The token is changing too often; try again.";

Error gone() { return Error::not_found("No such token."); }

// A revealed code held by a plan (its copies share it), wiped when the last copy goes.
struct HeldCode {
  std::string code;
  explicit HeldCode(std::string c) : code(std::move(c)) {}
  HeldCode(const HeldCode&) = delete;
  HeldCode& operator=(const HeldCode&) = delete;
  ~HeldCode() {
    if (!code.empty()) sodium_memzero(code.data(), code.size());
  }
};

}  // namespace

Command<TokenRow> TokenService::create(const RequestContext& ctx, std::string description, std::int64_t timeout_days,
                                       Timestamp now) {
  const std::string owner = ctx.actor.user;
  const std::string id = new_ulid("tok_");
  std::string code = secrets_.generate_code();
  SealedCode sealed = secrets_.seal(id, code);
  CreateToken cmd{owner, std::move(description), timeout_days, secrets_.lookup_hash(code), sealed.code_sealed};
  sodium_memzero(code.data(), code.size());  // only its lookup hash and the sealed code are kept
  auto decide = [this, ctx, owner, id, cmd, key = sealed.wrapped_data_key, now]() -> Result<Plan<TokenRow>> {
    // The owner as she stands now; the append lands only if her stream is still at this version,
    // so a deletion, disabling or removal from api-tokens that lands first refuses the creation.
    auto standing = standing_of(model_, owner, kGroupApiTokens);
    if (!standing) return std::move(standing).error();
    auto created = decide_create(cmd, model_.tokens().live_count(owner, now), max_live_tokens_);
    if (!created) return std::move(created).error();
    if (!model_.tokens().reserve(owner, now, max_live_tokens_)) {
      return Error::limit_exceeded("You already hold the most live tokens allowed; delete one first.");
    }
    // The reservation counts this creation against the limit until its append has completed.
    std::shared_ptr<void> reserved(static_cast<void*>(this), [this, owner](void*) { model_.tokens().release(owner); });
    AppendRequest request{.stream = id,
                          .expected_version = kNoStream,
                          .events = {std::move(created).value()},
                          .actor = ctx.actor,
                          .source = ctx.source,
                          .owner = owner,
                          .side_writes = {{SideStore::keys, id, key}},
                          .condition = std::move(standing).value()};
    auto then = [this, id]() -> Next<TokenRow> {
      auto row = model_.tokens().get(id);
      if (!row) return done<TokenRow>(Error::internal("a created token is missing from the projection"));
      return done<TokenRow>(std::move(*row));
    };
    return Plan<TokenRow>{.append = std::move(request), .then = std::move(then), .hold = std::move(reserved)};
  };
  return {std::move(decide), "Your account is changing too often; try again."};
}

bool TokenService::of_current_owner(const TokenRow& row) const {
  auto owner = model_.users().get(row.state.owner);
  return owner && owner->active && row.created_seq > owner->created_seq;
}

std::size_t TokenService::live_tokens(const std::string& owner, Timestamp now) const {
  const auto user = model_.users().get(owner);
  if (!user || !user->active) return 0;
  std::size_t live = 0;
  for (const TokenRow& row : model_.tokens().list(owner)) {
    live += row.created_seq > user->created_seq && !row.state.expired(now) ? 1 : 0;
  }
  return live;
}

std::vector<TokenRow> TokenService::list(const std::string& owner) const {
  auto rows = model_.tokens().list(owner);
  // Tokens of an earlier user of the same name are not hers (see of_current_owner).
  const auto user = model_.users().get(owner);
  const std::uint64_t since = user && user->active ? user->created_seq : UINT64_MAX;
  std::erase_if(rows, [&](const TokenRow& row) { return row.created_seq <= since; });
  if (usage_ != nullptr) {
    for (auto& row : rows) row = usage_->with_latest_use(std::move(row));
  }
  return rows;
}

Result<TokenRow> TokenService::get(const std::string& owner, const std::string& id) const {
  auto row = model_.tokens().get(id);
  if (!row || row->state.owner != owner || !of_current_owner(*row)) return gone();
  return usage_ != nullptr ? usage_->with_latest_use(std::move(*row)) : *row;
}

Command<std::string> TokenService::reveal(const RequestContext& ctx, const std::string& id) {
  auto decide = [this, ctx, id]() -> Result<Plan<std::string>> {
    auto row = model_.tokens().get(id);
    if (!row || !of_current_owner(*row)) return gone();
    auto revealed = decide_reveal(row->state, ctx.actor.user);
    if (!revealed) return std::move(revealed).error();
    // The owner as she stands now, as for a creation: the append lands only if her stream is
    // still at this version, so a disabling, deletion or removal from api-tokens that lands
    // between this decision and the append refuses the showing (decided again, then refused).
    auto standing = standing_of(model_, row->state.owner, kGroupApiTokens);
    if (!standing) return std::move(standing).error();
    // Read before the append: at this version the data key exists; the append's version check
    // makes sure that is still so when the TokenRevealed lands.
    auto created = store_.read(row->created_seq);
    auto wrapped = store_.get_side(SideStore::keys, id);
    if (!created) return std::move(created).error();  // the log cannot be read (a database out of reach): 503
    if (!wrapped) return std::move(wrapped).error();
    if (!*created || !*wrapped) return gone();
    auto* event = std::get_if<TokenCreated>(&(*created)->event);
    if (event == nullptr) return Error::internal("a token's first record is not TokenCreated");
    // The data key is there (the token is live at this version), so a code that does not open
    // means key material that is not this database's: refuse before anything is recorded.
    auto code = secrets_.unseal(id, event->code_sealed, **wrapped);
    if (!code) {
      return Error::internal(
          "The token's code cannot be opened with this server's master key, so it was not shown and nothing was "
          "recorded. The master key file does not belong to this database: restore the right one (README, Keys).");
    }
    auto held = std::make_shared<HeldCode>(std::move(*code));
    AppendRequest request{.stream = id,
                          .expected_version = row->state.version,
                          .events = {*revealed},
                          .actor = ctx.actor,
                          .source = ctx.source,
                          .owner = row->state.owner,
                          .condition = std::move(standing).value()};
    auto then = [held]() -> Next<std::string> { return done<std::string>(std::string(held->code)); };
    return Plan<std::string>{.append = std::move(request), .then = std::move(then)};
  };
  return {std::move(decide), kTokenBusy};
}

Command<TokenRow> TokenService::update(const RequestContext& ctx, const std::string& id, const UpdateToken& cmd,
                                       Timestamp now) {
  auto decide = [this, ctx, id, cmd, now]() -> Result<Plan<TokenRow>> {
    auto acting = standing(model_, ctx);
    if (!acting) return std::move(acting).error();
    auto row = model_.tokens().get(id);
    if (!row || !of_current_owner(*row)) return gone();
    auto events = decide_update(row->state, cmd, ctx.actor.user, now);
    if (!events) return std::move(events).error();
    if (events->empty()) return Plan<TokenRow>{.then = [row = *row] { return done<TokenRow>(row); }};
    AppendRequest request{.stream = id,
                          .expected_version = row->state.version,
                          .events = std::move(events).value(),
                          .actor = ctx.actor,
                          .source = ctx.source,
                          .owner = row->state.owner,
                          .condition = std::move(acting).value()};
    auto then = [this, id]() -> Next<TokenRow> {
      auto updated = model_.tokens().get(id);
      if (!updated) return done<TokenRow>(gone());
      return done<TokenRow>(std::move(*updated));
    };
    // A conflict decides again: with If-Match, decide_update then answers precondition_failed
    // when the token moved on (and not when only the actor's standing did).
    return Plan<TokenRow>{.append = std::move(request), .then = std::move(then)};
  };
  return {std::move(decide), kTokenBusy};
}

Command<void> TokenService::remove(const RequestContext& ctx, const std::string& id) {
  auto decide = [this, ctx, id]() -> Result<Plan<void>> {
    auto acting = standing(model_, ctx);
    if (!acting) return std::move(acting).error();
    auto row = model_.tokens().get(id);
    if (!row || !of_current_owner(*row)) return gone();
    auto deleted = decide_delete(row->state, ctx.actor.user);
    if (!deleted) return std::move(deleted).error();
    AppendRequest request = token_deletion(row->state, std::move(deleted).value(), ctx, std::move(acting).value());
    return Plan<void>{.append = std::move(request), .then = [] { return done(); }};
  };
  return {std::move(decide), kTokenBusy};
}

Result<std::vector<Record>> TokenService::history(const std::string& owner, const std::string& id) const {
  if (auto row = get(owner, id); !row) return std::move(row).error();
  std::vector<Record> records;
  auto read = store_.read_stream(id, [&](const Record& r) {
    records.push_back(r);
    return true;
  });
  if (!read) return std::move(read).error();
  return records;
}

Introspection TokenService::introspect(std::string_view code, Timestamp now, const std::string& ip) {
  if (!code_well_formed(code)) return {};
  auto row = model_.tokens().find_by_lookup(secrets_.lookup_hash(code));
  if (!row || row->state.expired(now)) return {};
  // Access follows membership: the owner must exist as the user who created it (not a later
  // user of the same name), be in api-tokens and not be disabled, at this moment.
  auto owner = model_.users().get(row->state.owner);
  if (!owner || !owner->may_hold_tokens() || row->created_seq <= owner->created_seq) return {};
  if (usage_ != nullptr) usage_->record(*row, ip, now);
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  return {true, row->state.owner, row->state.id,
          duration_cast<seconds>(row->state.expires_at().time_since_epoch()).count(),
          duration_cast<seconds>(row->state.created_at.time_since_epoch()).count()};
}

}  // namespace tl
