#include "service/sessions.hpp"

#include <gtest/gtest.h>

namespace tl {
namespace {

using std::chrono::minutes;
const Timestamp kT0{std::chrono::milliseconds{1'795'800'000'000}};

TEST(SessionStoreTest, SessionsEndWhenIdleOrOld) {
  SessionStore sessions(minutes{30}, minutes{120});
  const std::string id = sessions.create("alice", kT0);
  EXPECT_GE(id.size(), 40u);
  EXPECT_EQ(sessions.resolve(id, kT0 + minutes{29}), "alice");
  EXPECT_EQ(sessions.resolve(id, kT0 + minutes{58}), "alice");  // each use extends the idle time
  EXPECT_FALSE(sessions.resolve(id, kT0 + minutes{121}));       // but not the lifetime
  const std::string idle = sessions.create("bob", kT0);
  EXPECT_FALSE(sessions.resolve(idle, kT0 + minutes{31}));
  EXPECT_FALSE(sessions.resolve("made-up", kT0));
}

TEST(SessionStoreTest, LogoutAndUserRemovalEndSessions) {
  SessionStore sessions(minutes{30}, minutes{120});
  const std::string a1 = sessions.create("alice", kT0), a2 = sessions.create("alice", kT0);
  const std::string b = sessions.create("bob", kT0);
  sessions.remove(a1);
  EXPECT_FALSE(sessions.resolve(a1, kT0));
  EXPECT_TRUE(sessions.resolve(a2, kT0));
  sessions.remove_user("alice");
  EXPECT_FALSE(sessions.resolve(a2, kT0));
  EXPECT_EQ(sessions.resolve(b, kT0), "bob");
}

TEST(SessionStoreTest, RemoveUserExceptKeepsOnlyTheGivenSession) {
  SessionStore sessions(minutes{30}, minutes{120});
  const std::string a1 = sessions.create("alice", kT0), a2 = sessions.create("alice", kT0);
  const std::string b = sessions.create("bob", kT0);
  sessions.remove_user_except("alice", a2);
  EXPECT_FALSE(sessions.resolve(a1, kT0));
  EXPECT_EQ(sessions.resolve(a2, kT0), "alice");
  EXPECT_EQ(sessions.resolve(b, kT0), "bob");
}

}  // namespace
}  // namespace tl
