#include <gtest/gtest.h>

#include "service/sessions.hpp"

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
  EXPECT_FALSE(sessions.resolve(id, kT0 + minutes{121}));        // but not the lifetime
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

TEST(LoginThrottleTest, RefusesAfterRepeatedFailuresUntilTheWindowPasses) {
  LoginThrottle throttle(5, minutes{5});
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(throttle.allowed("alice", "1.2.3.4", kT0));
    throttle.failed("alice", "1.2.3.4", kT0);
  }
  EXPECT_FALSE(throttle.allowed("alice", "5.6.7.8", kT0));  // per user, from anywhere
  EXPECT_TRUE(throttle.allowed("bob", "1.2.3.4", kT0));     // the address still has room
  EXPECT_TRUE(throttle.allowed("alice", "1.2.3.4", kT0 + minutes{6}));
}

TEST(LoginThrottleTest, OneAddressTryingManyUsersIsRefused) {
  LoginThrottle throttle(5, minutes{5});
  for (int i = 0; i < 20; ++i) throttle.failed("user" + std::to_string(i), "9.9.9.9", kT0);
  EXPECT_FALSE(throttle.allowed("fresh", "9.9.9.9", kT0));
  EXPECT_TRUE(throttle.allowed("fresh", "8.8.8.8", kT0));
}

}  // namespace
}  // namespace tl
