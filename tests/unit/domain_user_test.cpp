#include <gtest/gtest.h>

#include "domain/user.hpp"

namespace tl {
namespace {

const Timestamp kT0{std::chrono::milliseconds{1'795'800'000'000}};

UserState user(const std::string& name, std::vector<std::string> groups) {
  UserState u;
  apply(u, UserCreated{name, std::move(groups)}, kT0);
  return u;
}

TEST(UserTest, CreateNormalizesGroups) {
  auto e = decide_create_user({}, "alice", {"auditors", "api-tokens", "auditors"});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->groups, (std::vector<std::string>{"api-tokens", "auditors"}));
}

TEST(UserTest, RejectsUnknownGroups) {
  EXPECT_EQ(decide_create_user({}, "alice", {"root"}).error().code, ErrorCode::invalid_field);
}

TEST(UserTest, RejectsBadUsernames) {
  // "Alice" is no longer among them: names are case-folded (issue 12), see TextLineRuleTest.
  for (const char* bad : {"", "-x", "a b", "ä", "x/y"}) {
    EXPECT_FALSE(decide_create_user({}, bad, {}).ok()) << bad;
  }
  EXPECT_FALSE(decide_create_user({}, std::string(65, 'a'), {}).ok());
  EXPECT_TRUE(decide_create_user({}, "a.b_c-9", {}).ok());
}

TEST(UserTest, RejectsDuplicateButAllowsRecreateAfterDelete) {
  UserState u = user("alice", {});
  EXPECT_EQ(decide_create_user(u, "alice", {}).error().code, ErrorCode::conflict);
  apply(u, UserDeleted{}, kT0);
  EXPECT_FALSE(u.active);
  EXPECT_TRUE(decide_create_user(u, "alice", {}).ok());
}

TEST(UserTest, GroupMembershipFollowsEvents) {
  UserState u = user("alice", {"api-tokens"});
  EXPECT_TRUE(u.in_group(kGroupApiTokens));
  EXPECT_FALSE(u.in_group(kGroupAuditors));
  apply(u, UserGroupsChanged{{"auditors"}}, kT0);
  EXPECT_FALSE(u.in_group(kGroupApiTokens));
  EXPECT_TRUE(u.in_group(kGroupAuditors));
  apply(u, UserDeleted{}, kT0);
  EXPECT_FALSE(u.in_group(kGroupAuditors));
}

TEST(UserTest, AdminCannotDropOwnAdminOrDeleteSelf) {
  const UserState admin = user("root1", {"admins"});
  EXPECT_EQ(decide_change_groups(admin, {}, "root1").error().code, ErrorCode::conflict);
  EXPECT_TRUE(decide_change_groups(admin, {"admins", "auditors"}, "root1").ok());
  EXPECT_TRUE(decide_change_groups(admin, {}, "other").ok());
  EXPECT_EQ(decide_delete_user(admin, "root1").error().code, ErrorCode::conflict);
  EXPECT_TRUE(decide_delete_user(admin, "other").ok());
}

TEST(UserTest, UnknownUsersAreNotFound) {
  EXPECT_EQ(decide_change_groups({}, {}, "x").error().code, ErrorCode::not_found);
  EXPECT_EQ(decide_change_password({}).error().code, ErrorCode::not_found);
  EXPECT_EQ(decide_delete_user({}, "x").error().code, ErrorCode::not_found);
}

TEST(UserTest, PasswordLength) {
  EXPECT_FALSE(validate_password("short").ok());
  EXPECT_FALSE(validate_password("12345678901").ok());  // 11 characters
  EXPECT_TRUE(validate_password("123456789012").ok());
  // Characters, not bytes: 11 two-byte letters are 22 bytes but too short; 12 pass.
  EXPECT_FALSE(validate_password("ééééééééééé").ok());
  EXPECT_TRUE(validate_password("éééééééééééé").ok());
  EXPECT_EQ(validate_password("short").error().message, "password: at least 12 characters.");
  EXPECT_FALSE(validate_password(std::string(1025, 'x')).ok());
}

TEST(UserTest, DisabledFollowsEventsAndStopsTokens) {
  UserState u = user("alice", {"api-tokens"});
  EXPECT_TRUE(u.may_hold_tokens());
  apply(u, UserDisabled{}, kT0);
  EXPECT_TRUE(u.disabled);
  EXPECT_TRUE(u.active);
  EXPECT_FALSE(u.may_hold_tokens());
  apply(u, UserEnabled{}, kT0);
  EXPECT_FALSE(u.disabled);
  EXPECT_TRUE(u.may_hold_tokens());
  apply(u, UserGroupsChanged{{"auditors"}}, kT0);
  EXPECT_FALSE(u.may_hold_tokens());
}

TEST(UserTest, RecreatedUserIsNotDisabled) {
  UserState u = user("alice", {"api-tokens"});
  apply(u, UserDisabled{}, kT0);
  apply(u, UserDeleted{}, kT0);
  apply(u, UserCreated{"alice", {"api-tokens"}}, kT0);
  EXPECT_FALSE(u.disabled);
  EXPECT_TRUE(u.may_hold_tokens());
}

TEST(UserTest, DecideSetDisabled) {
  UserState u = user("alice", {"api-tokens"});
  auto off = decide_set_disabled(u, true, "root1");
  ASSERT_TRUE(off.ok());
  ASSERT_TRUE(off->has_value());
  EXPECT_TRUE(std::holds_alternative<UserDisabled>(**off));
  auto same = decide_set_disabled(u, false, "root1");
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->has_value());  // already enabled: nothing to record
  apply(u, UserDisabled{}, kT0);
  auto on = decide_set_disabled(u, false, "root1");
  ASSERT_TRUE(on.ok());
  ASSERT_TRUE(on->has_value());
  EXPECT_TRUE(std::holds_alternative<UserEnabled>(**on));
  EXPECT_EQ(decide_set_disabled(UserState{}, true, "root1").error().code, ErrorCode::not_found);
}

TEST(UserTest, AdminCannotDisableHerself) {
  const UserState admin = user("root1", {"admins"});
  auto refused = decide_set_disabled(admin, true, "root1");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::conflict);
  EXPECT_NE(refused.error().message.find("disabled"), std::string::npos);
  EXPECT_TRUE(decide_set_disabled(admin, true, "root2").ok());
}

}  // namespace
}  // namespace tl
