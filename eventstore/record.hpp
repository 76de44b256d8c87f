// One entry of the log as stored: the event with its position, metadata and hash link.
#pragma once

#include <cstdint>
#include <string>

#include "domain/events.hpp"
#include "domain/time.hpp"

namespace tl {

inline constexpr int kRecordSchema = 1;
// prev_hash of the first record.
inline const std::string kGenesisHash(64, '0');

struct Record {
  std::uint64_t seq = 0;
  Timestamp at{};
  std::string stream;
  std::uint64_t version = 0;
  Actor actor;
  Source source;
  std::string token_id;  // token events: the token (= stream); empty otherwise
  std::string owner;     // token events: the token's owner; empty otherwise
  Event event;
  std::string prev_hash;
  std::string hash;
  std::string raw;  // the exact stored bytes, which the hash covers
};

}  // namespace tl
