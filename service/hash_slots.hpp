// A bound on concurrent password hashes. Each Argon2id computation takes 64 MiB for tens of
// milliseconds: without a bound, parallel sign-ins multiply that until the process is killed.
// A caller that gets no slot within the wait is answered 503 (Error::unavailable) at once.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <semaphore>
#include <thread>

namespace tl {

class HashSlots {
 public:
  static constexpr std::ptrdiff_t kMaxSlots = 256;

  // `slots` 0: the number of cores, at least 2.
  explicit HashSlots(std::size_t slots = 0, std::chrono::milliseconds wait = std::chrono::seconds{2})
      : slots_(static_cast<std::ptrdiff_t>(
            std::clamp<std::size_t>(slots ? slots : std::max(2u, std::thread::hardware_concurrency()), 1, kMaxSlots))),
        wait_(wait),
        free_(slots_) {}

  // Holds one slot while alive; `held()` is false when none came free within the wait.
  class Lease {
   public:
    explicit Lease(HashSlots& s) : slots_(s), held_(s.free_.try_acquire_for(s.wait_)) {}
    ~Lease() {
      if (held_) slots_.free_.release();
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    bool held() const { return held_; }

   private:
    HashSlots& slots_;
    bool held_;
  };

  std::ptrdiff_t size() const { return slots_; }

 private:
  std::ptrdiff_t slots_;
  std::chrono::milliseconds wait_;
  std::counting_semaphore<kMaxSlots> free_;
};

}  // namespace tl
