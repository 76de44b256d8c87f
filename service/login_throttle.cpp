#include "service/login_throttle.hpp"

#include <sodium.h>

#include <algorithm>

#include "eventstore/token_secrets.hpp"

namespace tl {
namespace {

std::chrono::seconds ceil_seconds(std::chrono::milliseconds d) {
  return std::max(std::chrono::seconds{1}, std::chrono::ceil<std::chrono::seconds>(d));
}

}  // namespace

LoginThrottle::LoginThrottle(Limits limits) : limits_(limits) {
  // Three keys are touched per attempt: fewer entries would evict one of them mid-attempt.
  limits_.max_entries = std::max<std::size_t>(limits_.max_entries, 3);
  ensure_sodium();
  crypto_generichash_keygen(hash_key_);
}

// A keyed hash: a 60 KB user name costs 33 bytes, and nobody can choose names that collide.
std::string LoginThrottle::key(char kind, std::string_view a, std::string_view b) const {
  crypto_generichash_state state;
  crypto_generichash_init(&state, hash_key_, sizeof hash_key_, 32);
  const std::uint64_t a_size = a.size();  // length-prefixed: ("ab","c") differs from ("a","bc")
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(&a_size), sizeof a_size);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(a.data()), a.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(b.data()), b.size());
  std::string out(33, '\0');
  out[0] = kind;
  crypto_generichash_final(&state, reinterpret_cast<unsigned char*>(out.data() + 1), 32);
  return out;
}

bool LoginThrottle::expired(char kind, const Entry& e, Timestamp now) const {
  // Quiet for a whole cap after the back-off ended: not at the moment it grants the next attempt.
  if (kind == 'u') return now - e.last >= limits_.backoff_cap && now >= e.next_allowed + limits_.backoff_cap;
  return now - e.start >= limits_.window;
}

std::chrono::seconds LoginThrottle::window_wait(const Entry& e, int limit, Timestamp now) const {
  if (e.count < limit) return std::chrono::seconds{0};
  return ceil_seconds(e.start + limits_.window - now);
}

std::chrono::seconds LoginThrottle::user_wait(const Entry& e, Timestamp now) const {
  if (e.count < limits_.user_free || now >= e.next_allowed) return std::chrono::seconds{0};
  return ceil_seconds(e.next_allowed - now);
}

void LoginThrottle::erase(const std::string& k) {
  auto it = entries_.find(k);
  if (it == entries_.end()) return;
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

LoginThrottle::Entry& LoginThrottle::touch(const std::string& k, Timestamp now) {
  auto it = entries_.find(k);
  if (it != entries_.end() && expired(k[0], it->second, now)) {
    erase(k);
    it = entries_.end();
  }
  if (it == entries_.end()) {
    if (entries_.size() >= limits_.max_entries) erase(lru_.back());
    lru_.push_front(k);
    it = entries_.emplace(k, Entry{}).first;
    it->second.start = now;
    it->second.lru = lru_.begin();
  } else {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  it->second.last = now;
  return it->second;
}

LoginThrottle::Decision LoginThrottle::reserve(std::string_view username, std::string_view address, Timestamp now) {
  const std::string pair = key('p', username, address);
  const std::string addr = key('a', address);
  const std::string user = key('u', username);
  std::lock_guard lock(mutex_);
  Entry& p = touch(pair, now);
  Entry& a = touch(addr, now);
  Entry& u = touch(user, now);
  const auto wait =
      std::max({window_wait(p, limits_.per_pair, now), window_wait(a, limits_.per_address, now), user_wait(u, now)});
  if (wait.count() > 0) return {false, wait};
  ++p.count;
  ++a.count;
  ++u.count;
  if (u.count >= limits_.user_free) {
    // Doubling from the base, capped: 2^n cannot overflow as the shift stops at the cap.
    auto backoff = limits_.backoff_base;
    for (int i = limits_.user_free; i < u.count && backoff < limits_.backoff_cap; ++i) backoff *= 2;
    u.next_allowed = now + std::min(backoff, limits_.backoff_cap);
  }
  return {true, std::chrono::seconds{0}};
}

void LoginThrottle::succeeded(std::string_view username, std::string_view address) {
  const std::string pair = key('p', username, address);
  const std::string addr = key('a', address);
  const std::string user = key('u', username);
  std::lock_guard lock(mutex_);
  erase(pair);
  erase(user);
  if (auto it = entries_.find(addr); it != entries_.end() && it->second.count > 0) --it->second.count;
}

std::size_t LoginThrottle::entries() {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace tl
