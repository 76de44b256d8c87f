// must_change: stored in UserCreated / UserPasswordChanged only when true (older records keep
// their bytes), folded into UserState, kept by the user projection's rows.
#include <gtest/gtest.h>

#include "common/time_format.hpp"
#include "domain/user.hpp"
#include "eventstore/codec.hpp"
#include "projections/user_table.hpp"

namespace tl {
namespace {

const Timestamp kT0{std::chrono::milliseconds{1'795'800'000'000}};

Record user_record(Event event) {
  Record r;
  r.seq = 7;
  r.at = kT0;
  r.stream = "user:dora";
  r.version = 1;
  r.actor = {"admin", Via::session, {}};
  r.event = std::move(event);
  r.prev_hash = kGenesisHash;
  encode_record(r);
  return r;
}

TEST(PasswordEventsTest, MustChangeIsWrittenOnlyWhenTrue) {
  const Record plain = user_record(UserPasswordChanged{});
  EXPECT_NE(plain.raw.find(R"("data":{})"), std::string::npos) << plain.raw;
  const Record forced = user_record(UserPasswordChanged{true});
  EXPECT_NE(forced.raw.find(R"("data":{"must_change":true})"), std::string::npos) << forced.raw;
  auto back = decode_record(forced.raw);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(std::get<UserPasswordChanged>(back->event).must_change);
  EXPECT_EQ(back->hash, forced.hash);

  const Record created = user_record(UserCreated{"dora", {"auditors"}, true});
  EXPECT_NE(created.raw.find(R"("must_change":true)"), std::string::npos) << created.raw;
  auto created_back = decode_record(created.raw);
  ASSERT_TRUE(created_back.ok()) << created_back.error().message;
  EXPECT_TRUE(std::get<UserCreated>(created_back->event).must_change);
  EXPECT_EQ(user_record(UserCreated{"dora", {"auditors"}}).raw.find("must_change"), std::string::npos);
}

TEST(PasswordEventsTest, MustChangeIsFoldedIntoTheUser) {
  UserState u;
  apply(u, UserCreated{"dora", {}, true}, kT0);
  EXPECT_TRUE(u.must_change_password);
  apply(u, UserGroupsChanged{{"auditors"}}, kT0);
  EXPECT_TRUE(u.must_change_password) << "only a password change clears it";
  apply(u, UserPasswordChanged{}, kT0);
  EXPECT_FALSE(u.must_change_password);
  apply(u, UserPasswordChanged{true}, kT0);
  EXPECT_TRUE(u.must_change_password);
}

TEST(PasswordEventsTest, TheUserRowKeepsMustChange) {
  UserState u;
  apply(u, UserCreated{"dora", {}, true}, kT0);
  auto back = UserTable::decode(UserTable::encode(u));
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->must_change_password);
  u.must_change_password = false;
  const std::string row = UserTable::encode(u);
  EXPECT_EQ(row.find("must_change"), std::string::npos) << "older rows keep their bytes";
  back = UserTable::decode(row);
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->must_change_password);
}

}  // namespace
}  // namespace tl
