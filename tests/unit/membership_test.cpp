// Access follows membership (issue 12, cases 3 and 4), below the HTTP layer: a token is active
// only while its owner exists as the user who created it, is in api-tokens and is not disabled;
// no creation lands after its owner's deletion, disabling or removal from api-tokens.
#include <gtest/gtest.h>

#include "common/json_writer.hpp"
#include "common/time_format.hpp"
#include "eventstore/event_store.hpp"
#include "projections/read_model.hpp"
#include "service/token_service.hpp"
#include "service/user_service.hpp"
#include "temp_dir.hpp"

namespace tl {
namespace {

std::array<unsigned char, 32> test_key() {
  std::array<unsigned char, 32> k{};
  k.fill(9);
  return k;
}

class MembershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = EventStore::open(dir_.path(), {.extra_column_families = ReadModel::column_families()}).value();
    model_ = std::make_unique<ReadModel>(*store_);
    ASSERT_TRUE(model_->load().ok());
    users_ = std::make_unique<UserService>(*store_, *model_);
    tokens_ = std::make_unique<TokenService>(*store_, *model_, secrets_, 100);
    ASSERT_TRUE(run_command(*store_, users_->create(admin_, "admin", "admin-password-1", {"admins"})).ok());
    ASSERT_TRUE(run_command(*store_, users_->create(admin_, "alice", "alice-password-1", {"api-tokens"})).ok());
  }

  // A token of alice and its code.
  std::pair<std::string, std::string> token_of_alice() {
    auto row = run_command(*store_, tokens_->create(alice_, "ci", 15, now_ms()));
    EXPECT_TRUE(row.ok()) << (row.ok() ? "" : row.error().message);
    auto code = run_command(*store_, tokens_->reveal(alice_, row->state.id));
    EXPECT_TRUE(code.ok());
    return {row->state.id, *code};
  }

  bool active(const std::string& code) { return tokens_->introspect(code, now_ms(), "127.0.0.1").active; }

  testing::TempDir dir_;
  TokenSecrets secrets_{test_key()};
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<ReadModel> model_;
  std::unique_ptr<UserService> users_;
  std::unique_ptr<TokenService> tokens_;
  const RequestContext admin_{{"admin", Via::session, {}}, {"127.0.0.1", "test", "r"}};
  const RequestContext alice_{{"alice", Via::session, {}}, {"127.0.0.1", "test", "r"}};
};

TEST_F(MembershipTest, LeavingApiTokensMakesTokensInactiveAndReturningRestoresThem) {
  const auto [id, code] = token_of_alice();
  ASSERT_TRUE(active(code));
  ASSERT_TRUE(run_command(*store_, users_->set_groups(admin_, "alice", {"auditors"})).ok());
  EXPECT_FALSE(active(code)) << "a token outlived its owner's membership of api-tokens";
  ASSERT_TRUE(run_command(*store_, users_->set_groups(admin_, "alice", {"api-tokens", "auditors"})).ok());
  EXPECT_TRUE(active(code)) << "re-adding the owner did not restore her token";
  EXPECT_EQ(tokens_->live_tokens("alice", now_ms()), 1u);
}

TEST_F(MembershipTest, DisablingMakesTokensInactiveAndEnablingRestoresThem) {
  const auto [id, code] = token_of_alice();
  auto disabled = run_command(*store_, users_->update(admin_, "alice", std::nullopt, std::nullopt, true));
  ASSERT_TRUE(disabled.ok()) << disabled.error().message;
  EXPECT_TRUE(disabled->disabled);
  EXPECT_FALSE(active(code));
  // A disabled account with the right password is told so; a wrong password learns nothing.
  auto right = users_->authenticate("alice", "alice-password-1");
  ASSERT_FALSE(right.ok());
  EXPECT_EQ(right.error().code, ErrorCode::forbidden);
  auto wrong = users_->authenticate("alice", "not-her-password");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::unauthenticated);
  const auto head = store_->head().seq;
  ASSERT_TRUE(run_command(*store_, users_->update(admin_, "alice", std::nullopt, std::nullopt, true)).ok());
  EXPECT_EQ(store_->head().seq, head) << "disabling a disabled account recorded something";
  ASSERT_TRUE(run_command(*store_, users_->update(admin_, "alice", std::nullopt, std::nullopt, false)).ok());
  EXPECT_TRUE(active(code));
  EXPECT_TRUE(users_->authenticate("alice", "alice-password-1").ok());
}

// A showing decided before its owner was disabled, and appended after, is refused: the append is
// tied to the owner's stream at the version it was judged at, conflicts, and is decided again.
TEST_F(MembershipTest, AShowingDecidedBeforeItsOwnerWasDisabledDoesNotLand) {
  auto row = run_command(*store_, tokens_->create(alice_, "ci", 15, now_ms()));
  ASSERT_TRUE(row.ok());
  CommandRun<std::string> reveal(tokens_->reveal(alice_, row->state.id));
  auto decided = reveal.next();
  ASSERT_TRUE(decided.has_value());
  ASSERT_TRUE(run_command(*store_, users_->update(admin_, "alice", std::nullopt, std::nullopt, true)).ok());
  const auto head = store_->head().seq;
  auto landed = store_->append(std::move(*decided));
  ASSERT_FALSE(landed.ok()) << "the showing landed after the disabling";
  EXPECT_EQ(landed.error().code, ErrorCode::version_conflict);
  reveal.appended(std::move(landed));
  while (auto next = reveal.next()) reveal.appended(store_->append(std::move(*next)));  // a barrier, if any
  auto outcome = std::move(reveal).outcome();
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code, ErrorCode::forbidden);
  EXPECT_EQ(store_->head().seq, head);
}

TEST_F(MembershipTest, AnAdminCannotDisableHerselfAndNothingIsRecorded) {
  const auto head = store_->head().seq;
  auto refused = run_command(
      *store_, users_->update(admin_, "admin", std::vector<std::string>{"admins", "auditors"}, std::nullopt, true));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::conflict);
  EXPECT_EQ(store_->head().seq, head) << "the groups of a refused change landed";
}

TEST_F(MembershipTest, NoCreationLandsForADeletedDisabledOrRemovedOwner) {
  ASSERT_TRUE(run_command(*store_, users_->update(admin_, "alice", std::nullopt, std::nullopt, true)).ok());
  auto disabled = run_command(*store_, tokens_->create(alice_, "late", 15, now_ms()));
  ASSERT_FALSE(disabled.ok());
  EXPECT_EQ(disabled.error().code, ErrorCode::forbidden);
  ASSERT_TRUE(
      run_command(*store_, users_->update(admin_, "alice", std::vector<std::string>{}, std::nullopt, false)).ok());
  auto removed = run_command(*store_, tokens_->create(alice_, "late", 15, now_ms()));
  ASSERT_FALSE(removed.ok());
  EXPECT_EQ(removed.error().code, ErrorCode::forbidden);
  ASSERT_TRUE(run_command(*store_, users_->remove(admin_, "alice")).ok());
  const auto head = store_->head().seq;
  auto deleted = run_command(*store_, tokens_->create(alice_, "late", 15, now_ms()));
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.error().code, ErrorCode::unauthenticated);
  EXPECT_EQ(store_->head().seq, head);
  EXPECT_TRUE(model_->tokens().list("alice").empty());
}

// A token that landed after its owner's deletion (as the old creation race let one) belongs to
// that deleted user, never to a later user of the same name.
TEST_F(MembershipTest, ATokenIsBoundToItsOwnersIdentityNotToTheName) {
  const auto [kept_id, kept_code] = token_of_alice();
  ASSERT_TRUE(run_command(*store_, users_->remove(admin_, "alice")).ok());
  const std::string id = "tok_late";
  const std::string code = secrets_.generate_code();
  SealedCode sealed = secrets_.seal(id, code);
  ASSERT_TRUE(store_
                  ->append({id,
                            kNoStream,
                            {TokenCreated{"alice", "late", 15, secrets_.lookup_hash(code), sealed.code_sealed}},
                            alice_.actor,
                            alice_.source,
                            "alice",
                            {{SideStore::keys, id, sealed.wrapped_data_key}}})
                  .ok());
  ASSERT_TRUE(run_command(*store_, users_->create(admin_, "alice", "another-alice-pw", {"api-tokens"})).ok());
  EXPECT_FALSE(active(code)) << "the new alice inherited a token of the deleted one";
  EXPECT_FALSE(active(kept_code));
  EXPECT_TRUE(tokens_->list("alice").empty());
  EXPECT_FALSE(tokens_->get("alice", id).ok());
  EXPECT_FALSE(run_command(*store_, tokens_->reveal(alice_, id)).ok());
  EXPECT_FALSE(run_command(*store_, tokens_->remove(alice_, id)).ok());
  EXPECT_EQ(tokens_->live_tokens("alice", now_ms()), 0u);
  // Her own new tokens are hers.
  const auto [new_id, new_code] = token_of_alice();
  EXPECT_TRUE(active(new_code));
  ASSERT_EQ(tokens_->list("alice").size(), 1u);
  EXPECT_EQ(tokens_->list("alice")[0].state.id, new_id);
}

// User rows saved before identities were kept have no created_seq: start-up reads it from the
// user's stream, so identity checks hold after an upgrade.
TEST_F(MembershipTest, AUserRowSavedWithoutIdentityIsCompletedAtLoad) {
  const auto [id, code] = token_of_alice();
  const UserState before = *model_->users().get("alice");
  ASSERT_GT(before.created_seq, 0u);
  ASSERT_TRUE(model_->save_checkpoint().ok());
  store_->stop_appender();
  JsonWriter w;  // the row as the previous version wrote it
  w.begin_object().key("username").value("alice").key("groups").begin_array().value("api-tokens").end_array();
  w.key("active").value(true).key("version").value(before.version).key("created_at").value(std::int64_t{0});
  w.end_object();
  ASSERT_TRUE(store_->raw_write(ReadModel::kStateFamily, "u/alice", std::move(w).str()).ok());
  model_.reset();
  store_.reset();
  store_ = EventStore::open(dir_.path(), {.extra_column_families = ReadModel::column_families()}).value();
  ReadModel reloaded(*store_);
  ASSERT_TRUE(reloaded.load().ok());
  EXPECT_EQ(reloaded.users().get("alice")->created_seq, before.created_seq);
}

TEST_F(MembershipTest, DisabledAndIdentitySurviveACheckpoint) {
  ASSERT_TRUE(run_command(*store_, users_->update(admin_, "alice", std::nullopt, std::nullopt, true)).ok());
  const UserState before = *model_->users().get("alice");
  ASSERT_TRUE(model_->save_checkpoint().ok());
  store_->stop_appender();
  model_.reset();
  store_.reset();
  store_ = EventStore::open(dir_.path(), {.extra_column_families = ReadModel::column_families()}).value();
  ReadModel reloaded(*store_);
  ASSERT_TRUE(reloaded.load().ok());
  EXPECT_EQ(reloaded.folded_seq(), reloaded.checkpoint_seq()) << "the test must read the saved row";
  const UserState after = *reloaded.users().get("alice");
  EXPECT_TRUE(after.disabled);
  EXPECT_EQ(after.created_seq, before.created_seq);
  EXPECT_EQ(UserTable::encode(after), UserTable::encode(before));
}

}  // namespace
}  // namespace tl
