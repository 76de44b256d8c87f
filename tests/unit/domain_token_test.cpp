#include <gtest/gtest.h>

#include "domain/token.hpp"

namespace tl {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

const Timestamp kT0{milliseconds{1'795'800'000'000}};

TokenState created_token(int days = 15) {
  TokenState s;
  s.id = "tok_1";
  apply(s, TokenCreated{"alice", "CI", days, "lookup", "sealed"}, kT0);
  return s;
}

CreateToken create_cmd(std::string description, std::int64_t days) {
  return {"alice", std::move(description), days, "lookup", "sealed"};
}

TEST(TokenTest, CreatedTokenExpiresAfterItsTimeout) {
  const TokenState s = created_token(15);
  EXPECT_EQ(s.version, 1u);
  EXPECT_EQ(s.owner, "alice");
  EXPECT_EQ(s.expires_at(), kT0 + Days{15});
  EXPECT_FALSE(s.expired(kT0 + Days{15} - milliseconds{1}));
  EXPECT_TRUE(s.expired(kT0 + Days{15}));  // now >= expires_at
}

TEST(TokenTest, DescriptionIsTrimmed) {
  auto e = decide_create(create_cmd("  CI pipeline \t", 15), 0, 100);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->description, "CI pipeline");
}

TEST(TokenTest, DescriptionLengthIsCountedInCharacters) {
  std::string two_hundred;
  for (int i = 0; i < 200; ++i) two_hundred += "é";  // 2 bytes each
  EXPECT_TRUE(decide_create(create_cmd(two_hundred, 15), 0, 100).ok());
  EXPECT_EQ(decide_create(create_cmd(two_hundred + "x", 15), 0, 100).error().code, ErrorCode::invalid_field);
  EXPECT_TRUE(decide_create(create_cmd("x", 15), 0, 100).ok());
}

TEST(TokenTest, RejectsEmptyOrBlankDescription) {
  EXPECT_EQ(decide_create(create_cmd("", 15), 0, 100).error().code, ErrorCode::invalid_field);
  EXPECT_EQ(decide_create(create_cmd("   ", 15), 0, 100).error().code, ErrorCode::invalid_field);
}

TEST(TokenTest, RejectsControlCharactersAndInvalidUtf8) {
  EXPECT_FALSE(decide_create(create_cmd("a\nb", 15), 0, 100).ok());
  EXPECT_FALSE(decide_create(create_cmd("a\x01"
                                        "b",
                                        15),
                             0, 100)
                   .ok());
  EXPECT_FALSE(decide_create(create_cmd("a\x7f"
                                        "b",
                                        15),
                             0, 100)
                   .ok());
  EXPECT_FALSE(decide_create(create_cmd("a\xC2\x85"
                                        "b",
                                        15),
                             0, 100)
                   .ok());  // U+0085, C1
  EXPECT_FALSE(decide_create(create_cmd("a\xE2\x80\xAE"
                                        "b",
                                        15),
                             0, 100)
                   .ok());  // U+202E, bidi override
  EXPECT_FALSE(decide_create(create_cmd("a\xFF"
                                        "b",
                                        15),
                             0, 100)
                   .ok());
  EXPECT_FALSE(decide_create(create_cmd("\xC0\xAF", 15), 0, 100).ok());  // overlong '/'
  EXPECT_TRUE(decide_create(create_cmd("naïve 日本 🔑", 15), 0, 100).ok());
}

TEST(TokenTest, TimeoutIsOneTo365Days) {
  EXPECT_TRUE(decide_create(create_cmd("x", 1), 0, 100).ok());
  EXPECT_TRUE(decide_create(create_cmd("x", 365), 0, 100).ok());
  EXPECT_EQ(decide_create(create_cmd("x", 0), 0, 100).error().code, ErrorCode::invalid_field);
  EXPECT_EQ(decide_create(create_cmd("x", 366), 0, 100).error().code, ErrorCode::invalid_field);
  EXPECT_EQ(decide_create(create_cmd("x", -1), 0, 100).error().code, ErrorCode::invalid_field);
}

TEST(TokenTest, RejectsCreateBeyondTheLiveTokenLimit) {
  EXPECT_TRUE(decide_create(create_cmd("x", 1), 99, 100).ok());
  EXPECT_EQ(decide_create(create_cmd("x", 1), 100, 100).error().code, ErrorCode::limit_exceeded);
}

TEST(TokenTest, EditChangesDescriptionAndTimeout) {
  const TokenState s = created_token(15);
  auto events = decide_update(s, {"new", 30, std::nullopt}, "alice", kT0 + hours{1});
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  TokenState next = s;
  for (const auto& e : *events) apply(next, e, kT0 + hours{1});
  EXPECT_EQ(next.description, "new");
  EXPECT_EQ(next.expires_at(), kT0 + Days{30});  // recomputed from created_at
  EXPECT_EQ(next.updated_at, kT0 + hours{1});
  EXPECT_EQ(next.version, 3u);
}

TEST(TokenTest, EditWithoutChangesDecidesNoEvents) {
  auto events = decide_update(created_token(15), {"CI", 15, std::nullopt}, "alice", kT0);
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
}

TEST(TokenTest, EditNeedsSomethingToChange) {
  EXPECT_EQ(decide_update(created_token(), {}, "alice", kT0).error().code, ErrorCode::invalid_field);
}

TEST(TokenTest, RejectsEditWhenExpired) {
  const TokenState s = created_token(1);
  auto r = decide_update(s, {"new", std::nullopt, std::nullopt}, "alice", kT0 + Days{1});
  EXPECT_EQ(r.error().code, ErrorCode::token_expired);
  EXPECT_NE(r.error().message.find("delete it and create a new one"), std::string::npos);
}

TEST(TokenTest, RejectsTimeoutThatWouldAlreadyHaveEnded) {
  const TokenState s = created_token(30);
  auto r = decide_update(s, {std::nullopt, 2, std::nullopt}, "alice", kT0 + Days{3});
  EXPECT_EQ(r.error().code, ErrorCode::invalid_field);
  EXPECT_TRUE(decide_update(s, {std::nullopt, 4, std::nullopt}, "alice", kT0 + Days{3}).ok());
}

TEST(TokenTest, IfMatchMustNameTheCurrentVersion) {
  const TokenState s = created_token();
  EXPECT_EQ(decide_update(s, {"new", std::nullopt, 2}, "alice", kT0).error().code, ErrorCode::precondition_failed);
  EXPECT_TRUE(decide_update(s, {"new", std::nullopt, 1}, "alice", kT0).ok());
}

TEST(TokenTest, OnlyTheOwnerActsAndOthersSeeNotFound) {
  const TokenState s = created_token();
  EXPECT_EQ(decide_update(s, {"new", std::nullopt, std::nullopt}, "bob", kT0).error().code, ErrorCode::not_found);
  EXPECT_EQ(decide_reveal(s, "bob").error().code, ErrorCode::not_found);
  EXPECT_EQ(decide_delete(s, "bob").error().code, ErrorCode::not_found);
  EXPECT_TRUE(decide_reveal(s, "alice").ok());
}

TEST(TokenTest, RevealAndDeleteAreAllowedOnExpiredTokens) {
  const TokenState s = created_token(1);
  EXPECT_TRUE(s.expired(kT0 + Days{2}));
  EXPECT_TRUE(decide_reveal(s, "alice").ok());
  EXPECT_TRUE(decide_delete(s, "alice").ok());
}

TEST(TokenTest, DeletedTokenIsGoneForEveryCommand) {
  TokenState s = created_token();
  apply(s, TokenDeleted{}, kT0);
  EXPECT_TRUE(s.deleted);
  EXPECT_TRUE(s.code_sealed.empty());
  EXPECT_EQ(decide_reveal(s, "alice").error().code, ErrorCode::not_found);
  EXPECT_EQ(decide_delete(s, "alice").error().code, ErrorCode::not_found);
  EXPECT_EQ(decide_update(s, {"x", std::nullopt, std::nullopt}, "alice", kT0).error().code, ErrorCode::not_found);
}

TEST(TokenTest, RevealCountsAsAVersionButChangesNothingElse) {
  TokenState s = created_token();
  const TokenState before = s;
  apply(s, TokenRevealed{}, kT0 + hours{1});
  EXPECT_EQ(s.version, 2u);
  EXPECT_EQ(s.updated_at, before.updated_at);
  EXPECT_EQ(s.description, before.description);
}

TEST(TokenTest, CodeMaterialCannotBeChangedByAnyEdit) {
  const TokenState s = created_token();
  auto events = decide_update(s, {"new", 20, std::nullopt}, "alice", kT0);
  ASSERT_TRUE(events.ok());
  TokenState next = s;
  for (const auto& e : *events) apply(next, e, kT0);
  EXPECT_EQ(next.code_lookup, s.code_lookup);
  EXPECT_EQ(next.code_sealed, s.code_sealed);
}

TEST(TokenTest, UseIsRecordedWithoutTouchingTheRest) {
  TokenState s = created_token();
  apply(s, TokenUsed{kT0 + hours{2}, "10.0.0.1"}, kT0 + hours{2});
  EXPECT_EQ(s.last_used_at, kT0 + hours{2});
  EXPECT_EQ(s.last_used_ip, "10.0.0.1");
  EXPECT_EQ(s.updated_at, kT0);
  apply(s, TokenUsed{kT0 + hours{1}, "10.0.0.2"}, kT0 + hours{3});  // an older use never wins
  EXPECT_EQ(s.last_used_ip, "10.0.0.1");
  EXPECT_TRUE(is_token_event(TokenUsed{}));
  EXPECT_FALSE(is_token_event(UserDeleted{}));
}

TEST(TokenTest, ExpiryNoticesComeOnceEachInOrder) {
  TokenState s = created_token(30);
  EXPECT_FALSE(due_expiry_notice(s, kT0 + Days{22}));
  EXPECT_EQ(due_expiry_notice(s, kT0 + Days{23}), ExpiryNotice::within_7d);
  apply(s, TokenExpiryNotified{"7d", true}, kT0 + Days{23});
  EXPECT_FALSE(due_expiry_notice(s, kT0 + Days{25}));
  EXPECT_EQ(due_expiry_notice(s, kT0 + Days{29}), ExpiryNotice::within_1d);
  apply(s, TokenExpiryNotified{"1d", false}, kT0 + Days{29});
  EXPECT_FALSE(due_expiry_notice(s, kT0 + Days{29} + hours{1}));
  EXPECT_EQ(due_expiry_notice(s, kT0 + Days{30}), ExpiryNotice::expired);
  apply(s, TokenExpiryNotified{"expired", true}, kT0 + Days{30});
  EXPECT_FALSE(due_expiry_notice(s, kT0 + Days{60}));
}

TEST(TokenTest, ANewTimeoutStartsExpiryNoticesOver) {
  TokenState s = created_token(10);
  apply(s, TokenExpiryNotified{"7d", true}, kT0 + Days{4});
  EXPECT_FALSE(due_expiry_notice(s, kT0 + Days{4}));
  apply(s, TokenTimeoutChanged{12}, kT0 + Days{4});
  EXPECT_EQ(due_expiry_notice(s, kT0 + Days{5}), ExpiryNotice::within_7d);
  TokenState deleted = created_token(1);
  apply(deleted, TokenDeleted{}, kT0);
  EXPECT_FALSE(due_expiry_notice(deleted, kT0 + Days{2}));
}

TEST(TokenTest, AdminRevocationNeedsAReasonAndALiveToken) {
  TokenState s = created_token();
  EXPECT_EQ(decide_revoke(s, "  ").error().code, ErrorCode::invalid_field);
  auto revoked = decide_revoke(s, "left the company");
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->reason, "left the company");
  apply(s, *revoked, kT0);
  EXPECT_EQ(decide_revoke(s, "again").error().code, ErrorCode::not_found);
}

}  // namespace
}  // namespace tl
