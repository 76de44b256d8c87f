#include "http/stream_slots.hpp"

namespace tl {

std::shared_ptr<void> StreamSlots::acquire(const std::string& user, std::size_t limit) {
  {
    std::lock_guard lock(mutex_);
    std::size_t& count = held_[user];
    if (limit != 0 && count >= limit) return nullptr;
    ++count;
  }
  // A non-null pointer to nothing: only its deleter matters.
  return std::shared_ptr<void>(static_cast<void*>(this), [this, user](void*) { release(user); });
}

void StreamSlots::release(const std::string& user) {
  std::lock_guard lock(mutex_);
  auto it = held_.find(user);
  if (it == held_.end()) return;
  if (--it->second == 0) held_.erase(it);
}

}  // namespace tl
