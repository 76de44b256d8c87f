// The description a token had at each of its events, for the readers' views of the trail
// (`token_description` in /api/v1/audit, /audit/stream, /tokens/{id}/history; issue 12).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "eventstore/event_log.hpp"

namespace tl {

// One per request or stream (not thread-safe). A TokenCreated or TokenDescriptionChanged carries
// its own (new) description; for any other event of a token the token's stream is read once
// (records up to the log's head then) and kept, so a page costs one read per token it names
// and a record past what was read (a live stream) reads that token's stream again.
class TokenDescriptions {
 public:
  explicit TokenDescriptions(const EventLog& store) : store_(store) {}

  // The description of the token `record` is an event of, as it stood at that event (after it,
  // for one that sets it); nullopt for a record that is not a token's event, or when the stream
  // cannot be read (the view then goes without the field rather than failing).
  std::optional<std::string> at(const Record& record);

 private:
  struct History {
    std::vector<std::pair<std::uint64_t, std::string>> changes;  // (seq, description), ascending
    std::uint64_t read_to = 0;                                   // the last seq read
  };
  // Bounds the memory of a long stream over many tokens: past this many, the cache starts again.
  static constexpr std::size_t kMaxTokens = 4096;

  const History* read(const std::string& token_id);

  const EventLog& store_;
  std::unordered_map<std::string, History> histories_;
};

}  // namespace tl
