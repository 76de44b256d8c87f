// When and from where each token was last used. The exact latest use is kept in memory and
// served at once; the log gets at most one TokenUsed per token per interval (and the rest at
// shutdown), so that validating a token stays a read on the hot path and the log does not
// grow with every API call.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "eventstore/event_log.hpp"
#include "projections/token_table.hpp"

namespace tl {

class UsageTracker {
 public:
  UsageTracker(EventLog& store, const TokenTable& tokens, std::chrono::seconds interval)
      : store_(store), tokens_(tokens), interval_(interval) {}

  // Notes a use of `row`'s token; queues a TokenUsed when the last one is older than the
  // interval. Never waits for the disk.
  void record(const TokenRow& row, const std::string& ip, Timestamp now);
  // `row` with its latest use, from memory when newer than the log's.
  TokenRow with_latest_use(TokenRow row) const;
  // Appends a TokenUsed for every token used since its last one; waits until durable.
  void flush();

 private:
  struct Use {
    Timestamp at{};
    std::string ip;
    std::string owner;
    std::uint64_t version = 0;  // the stream version seen with this use
    Timestamp logged{};         // when the last TokenUsed was queued
    bool pending = false;       // a use newer than the last TokenUsed
  };
  AppendRequest used_event(const std::string& id, const Use& use) const;

  EventLog& store_;
  const TokenTable& tokens_;
  std::chrono::seconds interval_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Use> uses_;
};

}  // namespace tl
