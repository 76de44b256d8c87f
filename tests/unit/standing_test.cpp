// The actor's standing is judged again at every decision and carried to the append
// (service/standing.hpp): a command decided while its actor held a privilege, and appended after
// the privilege was taken away, does not land (an attacker's try of issue 19: an admin removed
// from admins still acted as admin when her request was in flight at the time).
#include "service/standing.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "common/time_format.hpp"
#include "eventstore/event_store.hpp"
#include "projections/read_model.hpp"
#include "service/offboarding.hpp"
#include "service/token_service.hpp"
#include "service/user_service.hpp"
#include "temp_dir.hpp"

namespace tl {
namespace {

class StandingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = EventStore::open(dir_.path(), {.extra_column_families = ReadModel::column_families()}).value();
    model_ = std::make_unique<ReadModel>(*store_);
    ASSERT_TRUE(model_->load().ok());
    users_ = std::make_unique<UserService>(*store_, *model_);
    std::array<unsigned char, 32> key{};
    key.fill(7);
    secrets_ = std::make_unique<TokenSecrets>(key);
    tokens_ = std::make_unique<TokenService>(*store_, *model_, *secrets_, 100);
    for (const auto& [name, group] : {std::pair{"root", "admins"}, {"boss", "admins"}, {"alice", "api-tokens"}}) {
      ASSERT_TRUE(run_command(*store_, users_->create(tool_, name, name + std::string("-password-1"), {group})).ok());
    }
    auto row = run_command(*store_, tokens_->create(alice_, "ci", 15, now_ms()));
    ASSERT_TRUE(row.ok());
    token_ = row->state.id;
  }

  // Decides `command` once, lets `meanwhile` land, then appends the decision and runs the command
  // to its end; expects the append refused (version_conflict), the command ending with `code`,
  // and nothing recorded after `meanwhile`.
  template <class T>
  void expect_refused_after(Command<T> command, const std::function<void()>& meanwhile, ErrorCode code) {
    CommandRun<T> run(std::move(command));
    auto decided = run.next();
    ASSERT_TRUE(decided.has_value());
    meanwhile();
    const auto head = store_->head().seq;
    auto landed = store_->append(std::move(*decided));
    ASSERT_FALSE(landed.ok()) << "the command landed after its actor lost the right to it";
    EXPECT_EQ(landed.error().code, ErrorCode::version_conflict);
    run.appended(std::move(landed));
    while (auto next = run.next()) run.appended(store_->append(std::move(*next)));  // a barrier
    auto outcome = std::move(run).outcome();
    ASSERT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.error().code, code) << outcome.error().message;
    EXPECT_EQ(store_->head().seq, head);
  }

  void demote_boss() { ASSERT_TRUE(run_command(*store_, users_->set_groups(root_, "boss", {})).ok()); }
  void disable_boss() {
    ASSERT_TRUE(run_command(*store_, users_->update(root_, "boss", std::nullopt, std::nullopt, true)).ok());
  }
  void delete_boss() { ASSERT_TRUE(run_command(*store_, users_->remove(root_, "boss")).ok()); }
  void alice_leaves_api_tokens() { ASSERT_TRUE(run_command(*store_, users_->set_groups(root_, "alice", {})).ok()); }

  static RequestContext as(const char* user, std::string_view group) {
    return {{user, Via::session, {}}, {"127.0.0.1", "test", "r"}, group};
  }

  testing::TempDir dir_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<ReadModel> model_;
  std::unique_ptr<UserService> users_;
  std::unique_ptr<TokenSecrets> secrets_;
  std::unique_ptr<TokenService> tokens_;
  std::string token_;
  const RequestContext tool_{{"operator", Via::admin_tool, {}}, {}, {}};
  const RequestContext root_ = as("root", kGroupAdmins);
  const RequestContext boss_ = as("boss", kGroupAdmins);
  const RequestContext alice_ = as("alice", kGroupApiTokens);
};

TEST_F(StandingTest, AUserCreationDecidedBeforeTheAdminWasDemotedDoesNotLand) {
  expect_refused_after(
      users_->create(boss_, "mallory", "mallory-password-1", {"admins"}), [&] { demote_boss(); }, ErrorCode::forbidden);
  EXPECT_FALSE(model_->users().get("mallory").has_value());
}

TEST_F(StandingTest, AGroupChangeDecidedBeforeTheAdminWasDisabledDoesNotLand) {
  expect_refused_after(
      users_->set_groups(boss_, "alice", {"admins"}), [&] { disable_boss(); }, ErrorCode::forbidden);
  EXPECT_FALSE(model_->users().get("alice")->in_group(kGroupAdmins));
}

TEST_F(StandingTest, AUserDeletionDecidedBeforeTheAdminWasDeletedDoesNotLand) {
  expect_refused_after(
      users_->remove(boss_, "alice"), [&] { delete_boss(); }, ErrorCode::unauthenticated);
  EXPECT_TRUE(model_->users().get("alice").has_value());
}

TEST_F(StandingTest, ARevocationDecidedBeforeTheAdminWasDemotedDoesNotLand) {
  expect_refused_after(
      revoke_tokens(*model_, boss_, "alice", "offboarding"), [&] { demote_boss(); }, ErrorCode::forbidden);
  EXPECT_TRUE(model_->tokens().get(token_).has_value());
}

TEST_F(StandingTest, AnEditOrDeleteDecidedBeforeTheOwnerLeftApiTokensDoesNotLand) {
  expect_refused_after(
      tokens_->update(alice_, token_, {"renamed", std::nullopt, std::nullopt}, now_ms()),
      [&] { alice_leaves_api_tokens(); }, ErrorCode::forbidden);
  EXPECT_EQ(model_->tokens().get(token_)->state.description, "ci");
  // Back in the group, then a deletion decided before she is removed again.
  ASSERT_TRUE(run_command(*store_, users_->set_groups(root_, "alice", {"api-tokens"})).ok());
  expect_refused_after(
      tokens_->remove(alice_, token_), [&] { alice_leaves_api_tokens(); }, ErrorCode::forbidden);
  EXPECT_TRUE(model_->tokens().get(token_).has_value());
}

// With If-Match, a conflict on the token itself still answers 412 (decided again: the token moved
// on); one on the actor's stream alone is decided again and lands.
TEST_F(StandingTest, IfMatchStillAnswersPreconditionFailedAndTheActorsOwnChangesDoNotRefuseIt) {
  const auto version = model_->tokens().get(token_)->state.version;
  CommandRun<TokenRow> stale(tokens_->update(alice_, token_, {"mine", std::nullopt, version}, now_ms()));
  auto decided = stale.next();
  ASSERT_TRUE(decided.has_value());
  ASSERT_TRUE(run_command(*store_, tokens_->update(alice_, token_, {"theirs", std::nullopt, version}, now_ms())).ok());
  stale.appended(store_->append(std::move(*decided)));
  while (auto next = stale.next()) stale.appended(store_->append(std::move(*next)));
  auto refused = std::move(stale).outcome();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::precondition_failed);

  const auto now_at = model_->tokens().get(token_)->state.version;
  CommandRun<TokenRow> edit(tokens_->update(alice_, token_, {"again", std::nullopt, now_at}, now_ms()));
  decided = edit.next();
  ASSERT_TRUE(decided.has_value());
  ASSERT_TRUE(run_command(*store_, users_->reauthenticate(alice_, "alice-password-1")).ok());  // her stream moves
  edit.appended(store_->append(std::move(*decided)));
  while (auto next = edit.next()) edit.appended(store_->append(std::move(*next)));
  auto landed = std::move(edit).outcome();
  ASSERT_TRUE(landed.ok()) << landed.error().message;
  EXPECT_EQ(landed->state.description, "again");
}

TEST_F(StandingTest, WithoutAGroupNothingIsJudgedNorConditioned) {
  auto none = standing(*model_, tool_);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto boss = standing(*model_, boss_);
  ASSERT_TRUE(boss.ok());
  ASSERT_TRUE(boss->has_value());
  EXPECT_EQ((*boss)->stream, user_stream("boss"));
  EXPECT_EQ((*boss)->version, model_->users().get("boss")->version);
  EXPECT_EQ(standing(*model_, as("alice", kGroupAdmins)).error().code, ErrorCode::forbidden);
  EXPECT_EQ(standing(*model_, as("nobody", kGroupAdmins)).error().code, ErrorCode::unauthenticated);
}

}  // namespace
}  // namespace tl
