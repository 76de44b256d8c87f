// The reveal limiter (service/rate_limiter.hpp): a burst of N, then one more every 60/N s, per
// key, with Retry-After seconds; bounded memory.
#include "service/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tl {
namespace {

constexpr std::int64_t kT0 = 1'790'000'000'000;  // any Unix time in milliseconds

TEST(RateLimiter, BurstThenRefusedWithRetryAfterUntilRefilled) {
  RateLimiter limiter(3);
  EXPECT_EQ(limiter.take("alice", kT0), 0);
  EXPECT_EQ(limiter.take("alice", kT0 + 1), 0);
  EXPECT_EQ(limiter.take("alice", kT0 + 2), 0);
  // 3 a minute: one more after 20 s.
  EXPECT_EQ(limiter.take("alice", kT0 + 3), 20);
  EXPECT_EQ(limiter.take("alice", kT0 + 10'000), 10) << "a refused take takes nothing";
  EXPECT_EQ(limiter.take("alice", kT0 + 10'500), 10) << "rounded up to whole seconds";
  EXPECT_EQ(limiter.take("alice", kT0 + 20'003), 0);
  EXPECT_EQ(limiter.take("alice", kT0 + 20'004), 20);
}

TEST(RateLimiter, KeysAreIndependent) {
  RateLimiter limiter(1);
  EXPECT_EQ(limiter.take("alice", kT0), 0);
  EXPECT_EQ(limiter.take("alice", kT0), 60);
  EXPECT_EQ(limiter.take("bob", kT0), 0);
}

TEST(RateLimiter, BurstIsTheCapEvenAfterALongIdle) {
  RateLimiter limiter(2);
  EXPECT_EQ(limiter.take("alice", kT0), 0);
  const std::int64_t later = kT0 + 3'600'000;
  EXPECT_EQ(limiter.take("alice", later), 0);
  EXPECT_EQ(limiter.take("alice", later), 0);
  EXPECT_GT(limiter.take("alice", later), 0) << "an hour idle refills the burst, not more";
}

TEST(RateLimiter, ClockGoingBackRefillsNothing) {
  RateLimiter limiter(1);
  EXPECT_EQ(limiter.take("alice", kT0), 0);
  EXPECT_GT(limiter.take("alice", kT0 - 120'000), 0);
}

TEST(RateLimiter, ZeroIsOffAndKeepsNothing) {
  RateLimiter limiter(0);
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(limiter.take("alice", kT0), 0);
  EXPECT_EQ(limiter.keys(), 0u);
}

TEST(RateLimiter, MemoryIsBoundedIdleBucketsGoFirst) {
  RateLimiter limiter(5, /*max_keys=*/4);
  EXPECT_EQ(limiter.take("busy", kT0), 0);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(limiter.take("user" + std::to_string(i), kT0 + 60'000 + i), 0);
    EXPECT_LE(limiter.keys(), 4u);
  }
  RateLimiter small(1, /*max_keys=*/2);
  EXPECT_EQ(small.take("a", kT0), 0);
  EXPECT_EQ(small.take("b", kT0 + 1), 0);
  EXPECT_EQ(small.take("c", kT0 + 2), 0) << "all in use: the longest unused ('a') is dropped";
  EXPECT_EQ(small.keys(), 2u);
  EXPECT_GT(small.take("c", kT0 + 3), 0) << "'c' kept its state";
}

}  // namespace
}  // namespace tl
