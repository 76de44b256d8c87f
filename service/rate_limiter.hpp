// A token bucket per key (a user name): `per_minute` actions a minute, with a burst of as
// many, in bounded memory. Used for reveals (--reveal-rate), which append a record each: without
// a bound one user could fill the disk.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tl {

class RateLimiter {
 public:
  // per_minute 0: no limit (every take() succeeds, nothing is kept). max_keys bounds the
  // buckets held: idle ones (full again) are dropped first, then the longest unused.
  explicit RateLimiter(std::uint32_t per_minute, std::size_t max_keys = 100'000);

  // Takes one action for `key` at `now_ms` (milliseconds on any clock that does not go back
  // much, e.g. Unix time; faketime moves it in tests). 0 when allowed; otherwise the whole
  // seconds (>= 1) until one more is allowed, for Retry-After (RFC 9110 §10.2.3), and nothing
  // is taken.
  std::int64_t take(std::string_view key, std::int64_t now_ms);

  std::size_t keys() const;  // buckets held (for tests)
  bool enabled() const { return per_minute_ > 0; }

 private:
  struct Bucket {
    double tokens = 0;       // actions available now, up to the burst
    std::int64_t at_ms = 0;  // when `tokens` was last brought up to date
  };
  void make_room(std::int64_t now_ms);

  const std::uint32_t per_minute_;
  const std::size_t max_keys_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace tl
