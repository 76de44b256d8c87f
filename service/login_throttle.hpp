// The sign-in throttle. An attempt is counted BEFORE its password is checked (reserve), so
// parallel guesses cannot outrun the count; a correct password refunds the reservation.
//
// Three budgets, all of which must grant:
// - (user, address): `per_pair` attempts per `window` (5 per 5 minutes): an attacker's guesses
//   from elsewhere never lock the real user out of her own address;
// - address: `per_address` attempts per `window`, for one address trying many user names;
// - user, from all addresses: `user_free` failures, then one attempt per back-off interval that
//   doubles from `backoff_base` up to `backoff_cap` (no hard lockout). Forgotten after
//   `backoff_cap` without attempts and past the back-off.
// State is bounded: at most `max_entries` keys, the least recently used evicted first. Keys are
// keyed BLAKE2b hashes (32 bytes) of the name and address, whatever their length.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "domain/time.hpp"

namespace tl {

class LoginThrottle {
 public:
  struct Limits {
    int per_pair = 5;
    int per_address = 20;
    std::chrono::seconds window{300};
    int user_free = 20;
    std::chrono::seconds backoff_base{60};
    std::chrono::seconds backoff_cap{3600};
    std::size_t max_entries = 100'000;
  };
  // granted: check the password, then call succeeded() or leave the attempt counted.
  // Otherwise retry_after: whole seconds (>= 1) until the refusing budget grants again.
  struct Decision {
    bool granted = false;
    std::chrono::seconds retry_after{0};
  };

  LoginThrottle() : LoginThrottle(Limits{}) {}
  explicit LoginThrottle(Limits limits);

  Decision reserve(std::string_view username, std::string_view address, Timestamp now);
  // The password was right: refunds the reservation and forgets this user's failures.
  void succeeded(std::string_view username, std::string_view address);
  std::size_t entries();

 private:
  struct Entry {
    int count = 0;
    Timestamp start{};         // window start (pair, address) or first failure (user)
    Timestamp next_allowed{};  // user back-off
    Timestamp last{};
    std::list<std::string>::iterator lru;
  };
  std::string key(char kind, std::string_view a, std::string_view b = {}) const;
  Entry& touch(const std::string& key, Timestamp now);
  bool expired(char kind, const Entry& e, Timestamp now) const;
  std::chrono::seconds window_wait(const Entry& e, int limit, Timestamp now) const;
  std::chrono::seconds user_wait(const Entry& e, Timestamp now) const;
  void erase(const std::string& key);

  Limits limits_;
  unsigned char hash_key_[32];
  std::mutex mutex_;
  std::list<std::string> lru_;  // most recently used first
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace tl
