// What the EventLog tests share (tests/pg): an append of one TokenRevealed, and a subscriber that
// notes the seqs it is told of.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "eventstore/event_log.hpp"

namespace tl::testing {

inline AppendRequest reveal(const std::string& stream, std::uint64_t expected) {
  return {stream, expected, {TokenRevealed{}}, {"alice", Via::session, {}}, {"127.0.0.1", "ua", "r1"}, "alice", {}};
}

struct SeqsTold final : Subscriber {
  void on_committed(std::span<const Record> records) override {
    std::lock_guard lock(mutex);
    for (const Record& r : records) seqs.push_back(r.seq);
  }
  std::vector<std::uint64_t> copy() {
    std::lock_guard lock(mutex);
    return seqs;
  }
  std::mutex mutex;
  std::vector<std::uint64_t> seqs;
};

}  // namespace tl::testing
