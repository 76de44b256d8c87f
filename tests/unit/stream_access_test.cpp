// Unit tests of the pieces that hold a long request to its access (issue 12): the Bearer
// scheme parsed case-insensitively, the per-user stream slots, and a session check that does
// not extend the session.
#include <gtest/gtest.h>

#include "http/router.hpp"
#include "http/stream_slots.hpp"
#include "service/sessions.hpp"

namespace tl {
namespace {

using std::chrono::minutes;
const Timestamp kT0{std::chrono::milliseconds{1'795'800'000'000}};

TEST(BearerCredentialsTest, SchemeInAnyCaseThenSpaces) {
  EXPECT_EQ(bearer_credentials("Bearer tlk_abc"), "tlk_abc");
  EXPECT_EQ(bearer_credentials("bearer tlk_abc"), "tlk_abc");
  EXPECT_EQ(bearer_credentials("BEARER tlk_abc"), "tlk_abc");
  EXPECT_EQ(bearer_credentials("bEaReR   tlk_abc"), "tlk_abc");
  EXPECT_EQ(bearer_credentials("Bearer "), "");
  EXPECT_FALSE(bearer_credentials("Bearer"));
  EXPECT_FALSE(bearer_credentials("Bearertlk_abc"));
  EXPECT_FALSE(bearer_credentials("Basic YWxpY2U6eA=="));
  EXPECT_FALSE(bearer_credentials("Bearer\ttlk_abc"));
  EXPECT_FALSE(bearer_credentials(""));
}

TEST(StreamSlotsTest, AtMostTheLimitPerUserAndGivenBackOnRelease) {
  StreamSlots slots;
  std::vector<std::shared_ptr<void>> alice;
  for (int i = 0; i < 4; ++i) {
    alice.push_back(slots.acquire("alice", 4));
    ASSERT_NE(alice.back(), nullptr) << i;
  }
  EXPECT_EQ(slots.acquire("alice", 4), nullptr);
  EXPECT_NE(slots.acquire("bob", 4), nullptr) << "per user";
  auto copy = alice.front();
  alice.erase(alice.begin());
  EXPECT_EQ(slots.acquire("alice", 4), nullptr) << "a copy still holds the slot";
  copy.reset();
  EXPECT_NE(slots.acquire("alice", 4), nullptr) << "the last copy gave it back";
  for (int i = 0; i < 10; ++i) EXPECT_NE(slots.acquire("carol", 0), nullptr) << "0: no limit";
}

TEST(SessionActiveTest, AskingDoesNotExtendTheSession) {
  SessionStore sessions(minutes{30}, minutes{120});
  const std::string id = sessions.create("alice", kT0).value();
  EXPECT_TRUE(sessions.active(id, kT0 + minutes{20}));
  EXPECT_TRUE(sessions.active(id, kT0 + minutes{30}));
  EXPECT_FALSE(sessions.active(id, kT0 + minutes{31})) << "idle since sign-in, however often asked";
  EXPECT_FALSE(sessions.active("made-up", kT0));
  const std::string used = sessions.create("bob", kT0).value();
  for (int at = 25; at <= 100; at += 25) ASSERT_TRUE(sessions.resolve(used, kT0 + minutes{at})) << at;
  EXPECT_TRUE(sessions.active(used, kT0 + minutes{110}));
  EXPECT_FALSE(sessions.active(used, kT0 + minutes{121})) << "the lifetime holds";
  ASSERT_TRUE(sessions.remove(used));
  EXPECT_FALSE(sessions.active(used, kT0 + minutes{100}));
}

}  // namespace
}  // namespace tl
