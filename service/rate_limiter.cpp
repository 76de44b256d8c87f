#include "service/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace tl {

RateLimiter::RateLimiter(std::uint32_t per_minute, std::size_t max_keys)
    : per_minute_(per_minute), max_keys_(std::max<std::size_t>(max_keys, 1)) {}

std::int64_t RateLimiter::take(std::string_view key, std::int64_t now_ms) {
  if (per_minute_ == 0) return 0;
  const double burst = per_minute_;
  const double per_ms = burst / 60'000.0;
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) make_room(now_ms);
    it = buckets_.emplace(std::string(key), Bucket{burst, now_ms}).first;
  }
  Bucket& b = it->second;
  // A clock that stepped back (NTP) refills nothing rather than draining.
  const std::int64_t elapsed = std::max<std::int64_t>(0, now_ms - b.at_ms);
  b.tokens = std::min(burst, b.tokens + static_cast<double>(elapsed) * per_ms);
  b.at_ms = std::max(b.at_ms, now_ms);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  const double wait_ms = (1.0 - b.tokens) / per_ms;
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(wait_ms / 1000.0)));
}

// A bucket that has refilled to the burst is the same as none: drop those. If every bucket is
// still in use (more active keys than max_keys), drop the one unused longest, so memory stays
// bounded whatever keys arrive; that key merely starts again with a full burst.
void RateLimiter::make_room(std::int64_t now_ms) {
  const double full_after_ms = 60'000.0;
  std::erase_if(buckets_, [&](const auto& entry) {
    const Bucket& b = entry.second;
    return b.tokens + static_cast<double>(now_ms - b.at_ms) * per_minute_ / full_after_ms >= per_minute_;
  });
  if (buckets_.size() < max_keys_) return;
  auto oldest = std::min_element(buckets_.begin(), buckets_.end(),
                                 [](const auto& a, const auto& b) { return a.second.at_ms < b.second.at_ms; });
  buckets_.erase(oldest);
}

std::size_t RateLimiter::keys() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace tl
