// Audit streams held open per user, so that one user (or one leaked code) cannot take every
// connection of the server with live streams (issue 12).
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tl {

class StreamSlots {
 public:
  // A slot of `user`, given back when the last copy of the pointer is destroyed; null when the
  // user already holds `limit` slots (0: no limit). The slots must outlive every pointer.
  std::shared_ptr<void> acquire(const std::string& user, std::size_t limit);

 private:
  void release(const std::string& user);

  std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> held_;  // users holding none are not kept
};

}  // namespace tl
