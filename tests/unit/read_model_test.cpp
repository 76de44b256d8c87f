#include "projections/read_model.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "common/time_format.hpp"
#include "eventstore/event_store.hpp"
#include "service/expiry_notifier.hpp"
#include "service/token_service.hpp"
#include "service/user_service.hpp"
#include "temp_dir.hpp"

namespace tl {
namespace {

std::array<unsigned char, 32> test_key() {
  std::array<unsigned char, 32> k{};
  k.fill(7);
  return k;
}

// Everything a reader can see of the read model, as comparable text.
struct Snapshot {
  std::vector<std::string> tokens;
  std::vector<std::string> users;
  std::vector<std::string> audit_keys;
};

Snapshot snapshot(const ReadModel& model) {
  Snapshot s;
  for (const auto& row : model.tokens().all()) s.tokens.push_back(TokenTable::encode(row));
  for (const auto& user : model.users().list()) s.users.push_back(UserTable::encode(user));
  s.audit_keys = model.audit().dump();
  return s;
}

// Token owners exist, in api-tokens, before they create tokens (access follows membership).
void add_token_users(EventStore& store, ReadModel& model, std::initializer_list<const char*> names) {
  UserService users(store, model);
  const RequestContext admin{{"admin", Via::session, {}}, {}};
  for (const char* name : names) {
    ASSERT_TRUE(run_command(store, users.create(admin, name, "password-of-user", {"api-tokens"})).ok());
  }
}

class ReadModelTest : public ::testing::Test {
 protected:
  std::unique_ptr<EventStore> open() {
    return EventStore::open(dir_.path(), {.extra_column_families = ReadModel::column_families()}).value();
  }

  // A mixed history: users, tokens created, edited, revealed and deleted. Checkpoints are
  // saved part-way so the later fold starts from one.
  void write_history(EventStore& store, ReadModel& model) {
    TokenSecrets secrets(test_key());
    TokenService tokens(store, model, secrets, 100);
    UserService users(store, model);
    const RequestContext admin{{"admin", Via::session, {}}, {"127.0.0.1", "test", "r"}};
    ASSERT_TRUE(run_command(store, users.create(admin, "alice", "alice-password-1", {"api-tokens"})).ok());
    ASSERT_TRUE(run_command(store, users.create(admin, "bob", "bob-password-12", {"api-tokens", "auditors"})).ok());
    const RequestContext alice{{"alice", Via::session, {}}, {"127.0.0.1", "test", "r"}};
    const RequestContext bob{{"bob", Via::session, {}}, {"127.0.0.1", "test", "r"}};
    std::vector<std::string> ids;
    for (int i = 0; i < 30; ++i) {
      const auto& who = i % 3 == 0 ? bob : alice;
      auto row = run_command(store, tokens.create(who, "token " + std::to_string(i), 1 + i, now_ms()));
      ASSERT_TRUE(row.ok());
      ids.push_back(row->state.id);
      if (i == 10) {
        ASSERT_TRUE(model.save_checkpoint().ok());
      }
    }
    for (int i = 0; i < 30; ++i) {
      const auto& who = i % 3 == 0 ? bob : alice;
      if (i % 4 == 0) {
        ASSERT_TRUE(run_command(store, tokens.reveal(who, ids[i])).ok());
      }
      if (i % 5 == 0) {
        ASSERT_TRUE(run_command(store, tokens.update(who, ids[i], {"edited", 200, std::nullopt}, now_ms())).ok());
      }
      if (i % 7 == 0) {
        ASSERT_TRUE(run_command(store, tokens.remove(who, ids[i])).ok());
      }
      if (i == 20) {
        ASSERT_TRUE(model.save_checkpoint().ok());
      }
    }
    ASSERT_TRUE(run_command(store, users.set_groups(admin, "bob", {"auditors"})).ok());
  }

  testing::TempDir dir_;
};

TEST_F(ReadModelTest, RebuildFromSeqOneEqualsTheCheckpointedFold) {
  Snapshot live, reloaded, rebuilt;
  {
    auto store = open();
    ReadModel model(*store);
    ASSERT_TRUE(model.load().ok());
    write_history(*store, model);
    live = snapshot(model);
    store->stop_appender();
    // Deliberately no final checkpoint: the restart must fold the tail from the log.
  }
  {
    auto store = open();
    ReadModel model(*store);
    ASSERT_TRUE(model.load().ok());
    EXPECT_GT(model.checkpoint_seq(), 0u);
    EXPECT_LT(model.checkpoint_seq(), store->head().seq);
    EXPECT_TRUE(model.caught_up());
    reloaded = snapshot(model);
    ASSERT_TRUE(model.rebuild().ok());
    EXPECT_EQ(model.checkpoint_seq(), store->head().seq);
    rebuilt = snapshot(model);
  }
  EXPECT_FALSE(live.tokens.empty());
  EXPECT_EQ(live.users.size(), 2u);
  EXPECT_EQ(reloaded.tokens, live.tokens);
  EXPECT_EQ(reloaded.users, live.users);
  EXPECT_EQ(reloaded.audit_keys, live.audit_keys);
  EXPECT_EQ(rebuilt.tokens, live.tokens);
  EXPECT_EQ(rebuilt.users, live.users);
  EXPECT_EQ(rebuilt.audit_keys, live.audit_keys);
}

// refold_tables (BM_Fold) gives the tables a load gives; after drop_saved_state (the generator's
// --drop-checkpoint) a load folds from seq 1 to the same state.
TEST_F(ReadModelTest, RefoldAndDroppedCheckpointGiveTheSameTables) {
  Snapshot live, refolded, dropped;
  {
    auto store = open();
    ReadModel model(*store);
    ASSERT_TRUE(model.load().ok());
    write_history(*store, model);
    ASSERT_TRUE(model.save_checkpoint().ok());
    live = snapshot(model);
    ASSERT_TRUE(model.refold_tables().ok());
    EXPECT_EQ(model.folded_seq(), store->head().seq);
    refolded = snapshot(model);
    store->stop_appender();
    ASSERT_TRUE(ReadModel::drop_saved_state(*store).ok());
  }
  {
    auto store = open();
    ReadModel model(*store);
    ASSERT_TRUE(model.load().ok());
    EXPECT_EQ(model.checkpoint_seq(), 0u);
    EXPECT_TRUE(model.caught_up());
    dropped = snapshot(model);
  }
  EXPECT_FALSE(live.tokens.empty());
  EXPECT_EQ(refolded.tokens, live.tokens);
  EXPECT_EQ(refolded.users, live.users);
  EXPECT_EQ(dropped.tokens, live.tokens);
  EXPECT_EQ(dropped.users, live.users);
}

TEST_F(ReadModelTest, TokenTableIndexesByOwnerAndLookup) {
  auto store = open();
  ReadModel model(*store);
  ASSERT_TRUE(model.load().ok());
  TokenSecrets secrets(test_key());
  TokenService tokens(*store, model, secrets, 3);
  const RequestContext alice{{"alice", Via::session, {}}, {}};
  add_token_users(*store, model, {"alice"});
  auto first = run_command(*store, tokens.create(alice, "one", 10, now_ms()));
  auto second = run_command(*store, tokens.create(alice, "two", 10, now_ms()));
  ASSERT_TRUE(first.ok() && second.ok());
  auto listed = tokens.list("alice");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].state.id, second->state.id);  // newest first
  EXPECT_TRUE(tokens.list("bob").empty());
  EXPECT_EQ(tokens.get("bob", first->state.id).error().code, ErrorCode::not_found);
  EXPECT_TRUE(run_command(*store, tokens.create(alice, "three", 10, now_ms())).ok());
  EXPECT_EQ(run_command(*store, tokens.create(alice, "four", 10, now_ms())).error().code, ErrorCode::limit_exceeded);
  auto code = run_command(*store, tokens.reveal(alice, first->state.id));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(model.tokens().find_by_lookup(secrets.lookup_hash(*code))->state.id, first->state.id);
  ASSERT_TRUE(run_command(*store, tokens.remove(alice, first->state.id)).ok());
  EXPECT_FALSE(model.tokens().find_by_lookup(secrets.lookup_hash(*code)));
  EXPECT_EQ(run_command(*store, tokens.reveal(alice, first->state.id)).error().code, ErrorCode::not_found);
  EXPECT_FALSE(store->get_side(SideStore::keys, first->state.id).value()) << "the data key must be destroyed";
}

TEST_F(ReadModelTest, UsesAreCoalescedIntoFewTokenUsedEvents) {
  auto store = open();
  ReadModel model(*store);
  ASSERT_TRUE(model.load().ok());
  TokenSecrets secrets(test_key());
  UsageTracker usage(*store, model.tokens(), std::chrono::hours{1});
  TokenService tokens(*store, model, secrets, 100, &usage);
  const RequestContext alice{{"alice", Via::session, {}}, {}};
  UserService users(*store, model);
  ASSERT_TRUE(run_command(*store, users.create(alice, "alice", "alice-password-1", {"api-tokens"})).ok());
  auto row = run_command(*store, tokens.create(alice, "a", 10, now_ms())).value();
  const std::string code = run_command(*store, tokens.reveal(alice, row.state.id)).value();
  const Timestamp t0 = now_ms();
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(tokens.introspect(code, t0 + std::chrono::minutes{i}, "10.0.0." + std::to_string(i)).active);
  }
  // The first use is logged at once (asynchronously); the other 49 fall in the same hour.
  for (int i = 0; i < 200 && model.audit().query({.type = "TokenUsed"}, 10).value().events.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(model.audit().query({.type = "TokenUsed"}, 10).value().events.size(), 1u);
  auto shown = tokens.get("alice", row.state.id).value();
  EXPECT_EQ(shown.state.last_used_at, t0 + std::chrono::minutes{49});
  EXPECT_EQ(shown.state.last_used_ip, "10.0.0.49");
  usage.flush();  // shutdown: the latest use reaches the log
  const auto used = model.audit().query({.type = "TokenUsed"}, 10).value().events;
  ASSERT_EQ(used.size(), 2u);
  EXPECT_EQ(std::get<TokenUsed>(used[1].event).used_at, t0 + std::chrono::minutes{49});
  EXPECT_EQ(model.tokens().get(row.state.id)->state.last_used_ip, "10.0.0.49");
}

TEST_F(ReadModelTest, ExpiryNotifierSendsEachNoticeOnceAndRecordsIt) {
  auto store = open();
  ReadModel model(*store);
  ASSERT_TRUE(model.load().ok());
  TokenSecrets secrets(test_key());
  TokenService tokens(*store, model, secrets, 100);
  const RequestContext alice{{"alice", Via::session, {}}, {}};
  add_token_users(*store, model, {"alice"});
  const Timestamp t0 = now_ms();
  auto row = run_command(*store, tokens.create(alice, "soon", 10, t0)).value();
  ASSERT_TRUE(run_command(*store, tokens.create(alice, "later", 100, t0)).ok());
  std::vector<std::string> bodies;
  bool receiver_up = true;
  ExpiryNotifier notifier(
      *store, model,
      [&](const std::string& body, const std::string&) {
        bodies.push_back(body);
        return receiver_up;
      },
      std::chrono::hours{1});
  EXPECT_EQ(notifier.scan(t0 + Days{1}), 0u);
  EXPECT_EQ(notifier.scan(t0 + Days{4}), 1u);
  EXPECT_EQ(notifier.scan(t0 + Days{4}), 0u) << "sent once";
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_NE(bodies[0].find(R"("window":"7d")"), std::string::npos);
  EXPECT_NE(bodies[0].find(row.state.id), std::string::npos);
  receiver_up = false;
  EXPECT_EQ(notifier.scan(t0 + Days{9} + std::chrono::hours{1}), 0u);
  EXPECT_EQ(notifier.failed(), 1u);
  EXPECT_EQ(notifier.scan(t0 + Days{9} + std::chrono::hours{2}), 0u);
  EXPECT_EQ(bodies.size(), 2u) << "a failed notice is recorded, not retried forever";
  receiver_up = true;
  EXPECT_EQ(notifier.scan(t0 + Days{11}), 1u);
  const auto recorded = model.audit().query({.type = "TokenExpiryNotified"}, 10).value().events;
  ASSERT_EQ(recorded.size(), 3u);
  EXPECT_EQ(std::get<TokenExpiryNotified>(recorded[1].event).window, "1d");
  EXPECT_FALSE(std::get<TokenExpiryNotified>(recorded[1].event).delivered);
  EXPECT_EQ(std::get<TokenExpiryNotified>(recorded[2].event).window, "expired");
}

TEST_F(ReadModelTest, AuditQueriesFilterAndPage) {
  auto store = open();
  ReadModel model(*store);
  ASSERT_TRUE(model.load().ok());
  TokenSecrets secrets(test_key());
  TokenService tokens(*store, model, secrets, 100);
  const RequestContext alice{{"alice", Via::session, {}}, {}};
  const RequestContext bob{{"bob", Via::session, {}}, {}};
  add_token_users(*store, model, {"alice", "bob"});
  auto a = run_command(*store, tokens.create(alice, "a", 10, now_ms())).value();
  auto b = run_command(*store, tokens.create(bob, "b", 10, now_ms())).value();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(run_command(*store, tokens.reveal(alice, a.state.id)).ok());
  ASSERT_TRUE(run_command(*store, tokens.reveal(bob, b.state.id)).ok());

  auto by_token = model.audit().query({.token_id = a.state.id}, 100).value();
  EXPECT_EQ(by_token.events.size(), 6u);
  EXPECT_FALSE(by_token.next_after_seq);
  auto reveals_by_bob = model.audit().query({.actor = "bob", .type = "TokenRevealed"}, 100).value();
  ASSERT_EQ(reveals_by_bob.events.size(), 1u);
  EXPECT_EQ(reveals_by_bob.events[0].token_id, b.state.id);

  auto page1 = model.audit().query({.type = "TokenRevealed"}, 4).value();
  ASSERT_EQ(page1.events.size(), 4u);
  ASSERT_TRUE(page1.next_after_seq);
  EXPECT_EQ(*page1.next_after_seq, page1.events.back().seq);
  auto page2 = model.audit().query({.type = "TokenRevealed", .after_seq = *page1.next_after_seq}, 4).value();
  EXPECT_EQ(page2.events.size(), 2u);
  EXPECT_FALSE(page2.next_after_seq);

  const Timestamp future = now_ms() + std::chrono::hours{1};
  EXPECT_TRUE(model.audit().query({.since = future}, 100).value().events.empty());
  EXPECT_EQ(model.audit().query({.until = future}, 100).value().events.size(), 10u);  // 2 UserCreated

  // By owner (issue 18): through the owner keys; the same by scanning the log while they are not
  // complete (a directory not yet back-filled).
  auto seqs = [](const AuditPage& page) {
    std::vector<std::uint64_t> out;
    for (const auto& e : page.events) out.push_back(e.seq);
    return out;
  };
  auto owned = model.audit().query({.owner = "alice"}, 100).value();
  ASSERT_EQ(owned.events.size(), 6u);
  for (const auto& e : owned.events) EXPECT_EQ(e.owner, "alice");
  EXPECT_EQ(model.audit().query({.owner = "bob", .type = "TokenRevealed"}, 100).value().events.size(), 1u);
  EXPECT_TRUE(model.audit().query({.token_id = b.state.id, .owner = "alice"}, 100).value().events.empty());
  auto owned_page = model.audit().query({.owner = "alice"}, 4).value();
  EXPECT_EQ(owned_page.events.size(), 4u);
  ASSERT_TRUE(store->raw_write("audit_index", AuditIndex::kOwnerIndexMarker, std::nullopt).ok());
  EXPECT_EQ(seqs(model.audit().query({.owner = "alice"}, 100).value()), seqs(owned));
  EXPECT_EQ(seqs(model.audit().query({.owner = "alice"}, 4).value()), seqs(owned_page));
}

}  // namespace
}  // namespace tl
