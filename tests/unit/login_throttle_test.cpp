// The sign-in throttle: counted before the check, per (user, address) with a slower per-user
// back-off, truthful waits, bounded state.
#include "service/login_throttle.hpp"

#include <gtest/gtest.h>

namespace tl {
namespace {

using std::chrono::seconds;
const Timestamp kT0{std::chrono::milliseconds{1'795'800'000'000}};

TEST(LoginThrottleTest, AttemptsAreCountedBeforeTheirCheck) {
  // 64 parallel sign-ins reserve before any password is checked: only the limit gets a check.
  LoginThrottle throttle;
  int granted = 0;
  for (int i = 0; i < 64; ++i) granted += throttle.reserve("alice", "6.6.6.6", kT0).granted;
  EXPECT_EQ(granted, 5);
}

TEST(LoginThrottleTest, AnAttackerElsewhereDoesNotLockTheUserOutOfHerAddress) {
  LoginThrottle throttle;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(throttle.reserve("alice", "6.6.6.6", kT0).granted);
  EXPECT_FALSE(throttle.reserve("alice", "6.6.6.6", kT0).granted);
  EXPECT_TRUE(throttle.reserve("alice", "1.2.3.4", kT0).granted) << "her own address still has room";
}

TEST(LoginThrottleTest, RetryAfterSaysWhenTheWindowReopens) {
  LoginThrottle throttle;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(throttle.reserve("alice", "6.6.6.6", kT0).granted);
  const auto refused = throttle.reserve("alice", "6.6.6.6", kT0 + seconds{100});
  EXPECT_FALSE(refused.granted);
  EXPECT_EQ(refused.retry_after, seconds{200});
  EXPECT_FALSE(throttle.reserve("alice", "6.6.6.6", kT0 + seconds{299}).granted);
  EXPECT_TRUE(throttle.reserve("alice", "6.6.6.6", kT0 + seconds{300}).granted);
}

TEST(LoginThrottleTest, ASuccessRefundsItsReservation) {
  LoginThrottle throttle;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(throttle.reserve("alice", "1.2.3.4", kT0).granted);
  ASSERT_TRUE(throttle.reserve("alice", "1.2.3.4", kT0).granted);
  throttle.succeeded("alice", "1.2.3.4");
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(throttle.reserve("alice", "1.2.3.4", kT0).granted) << i;
}

TEST(LoginThrottleTest, OneAddressTryingManyUsersIsRefused) {
  LoginThrottle throttle;
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(throttle.reserve("user" + std::to_string(i), "9.9.9.9", kT0).granted);
  EXPECT_FALSE(throttle.reserve("fresh", "9.9.9.9", kT0).granted);
  EXPECT_TRUE(throttle.reserve("fresh", "8.8.8.8", kT0).granted);
}

TEST(LoginThrottleTest, ManyAddressesMeetASlowerPerUserBackOffNotALockout) {
  LoginThrottle throttle;
  // 20 failures, 4 from each of 5 addresses: each pair is under its limit.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(throttle.reserve("alice", "10.0.0." + std::to_string(i / 4), kT0).granted);
  auto refused = throttle.reserve("alice", "1.2.3.4", kT0);
  EXPECT_FALSE(refused.granted);
  EXPECT_EQ(refused.retry_after, seconds{60});
  EXPECT_TRUE(throttle.reserve("bob", "1.2.3.4", kT0).granted) << "per user, not per address";
  // One attempt per interval, which doubles: 60 s, then 120 s, then 240 s ...
  EXPECT_TRUE(throttle.reserve("alice", "1.2.3.4", kT0 + seconds{60}).granted);
  refused = throttle.reserve("alice", "1.2.3.4", kT0 + seconds{61});
  EXPECT_FALSE(refused.granted);
  EXPECT_EQ(refused.retry_after, seconds{119});
  EXPECT_TRUE(throttle.reserve("alice", "1.2.3.4", kT0 + seconds{180}).granted);
  EXPECT_EQ(throttle.reserve("alice", "1.2.3.4", kT0 + seconds{180}).retry_after, seconds{240});
  // ... and the right password ends it.
  throttle.succeeded("alice", "1.2.3.4");
  EXPECT_TRUE(throttle.reserve("alice", "1.2.3.4", kT0 + seconds{181}).granted);
}

TEST(LoginThrottleTest, TheBackOffIsCapped) {
  LoginThrottle::Limits limits;
  limits.per_pair = 1'000'000;
  limits.per_address = 1'000'000;
  LoginThrottle throttle(limits);
  Timestamp now = kT0;
  int granted = 0;
  while (granted < 40) {
    const auto d = throttle.reserve("alice", "6.6.6.6", now);
    if (d.granted) {
      ++granted;
    } else {
      EXPECT_LE(d.retry_after, seconds{3600});
      now += d.retry_after;
    }
  }
  const auto refused = throttle.reserve("alice", "6.6.6.6", now);
  ASSERT_FALSE(refused.granted);
  EXPECT_EQ(refused.retry_after, seconds{3600}) << "2^20 minutes would be two years";
}

TEST(LoginThrottleTest, StateIsBoundedWhateverTheNames) {
  LoginThrottle::Limits limits;
  limits.max_entries = 100;
  LoginThrottle throttle(limits);
  const std::string long_name(60'000, 'x');
  for (int i = 0; i < 1000; ++i) (void)throttle.reserve(long_name + std::to_string(i), "6.6.6.6", kT0);
  EXPECT_LE(throttle.entries(), 100u);
  // The oldest went first: the newest name is still counted.
  for (int i = 0; i < 4; ++i) (void)throttle.reserve("newest", "1.1.1.1", kT0);
  EXPECT_TRUE(throttle.reserve("newest", "1.1.1.1", kT0).granted);
  EXPECT_FALSE(throttle.reserve("newest", "1.1.1.1", kT0).granted);
}

}  // namespace
}  // namespace tl
