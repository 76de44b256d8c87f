// The hash-chain rule of the log, pure (no database): a record's bytes match the SHA-256 hash
// they carry and decode strictly, and a record links to the one before it (the next seq, whose
// prev_hash is that record's hash). One home for every reader that checks a chain: the export
// check of `tokenledger-admin verify --file` and the raw walk of a log the store will not open
// (tools/chain_check), and the store's own walk (EventStore::verify_from). The signed
// checkpoints form a chain of their own, whose two rules are here too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "eventstore/record.hpp"

namespace tl {

struct SignedCheckpoint;

// A stored record's bytes read on their own.
struct CheckedRecord {
  std::optional<Record> record;  // set when nothing is wrong
  std::uint64_t seq = 0;         // the seq the bytes name when they decode, else 0
  std::string problem;           // empty when nothing is wrong
};

// The bytes match their hash (checked first: altered bytes are named so even when they still
// decode), then decode strictly.
CheckedRecord check_record_bytes(std::string_view raw);

// The point a chain has reached: the next record must link to it.
struct ChainLink {
  std::uint64_t seq = 0;            // the last record's seq; 0 before seq 1
  std::string hash = kGenesisHash;  // its hash; the genesis value before seq 1

  // What is wrong with `next` read after this point, or "" when nothing is: `next` is seq + 1
  // and its prev_hash is `hash`, or it is a later seq (a gap, which only the caller can judge:
  // a filtered export has them, the log must not). A problem is a seq not after this one (out
  // of order) or a prev_hash that does not link (naming the genesis value before seq 1).
  std::string problem(const Record& next) const;
};

// The first record of a sequence that may start anywhere (an export of a filtered query): "" unless it
// is seq 1 and does not link to the genesis value.
std::string first_record_problem(const Record& first);

// True when `c`'s Ed25519 signature verifies with `trusted_key_hex` (hex), or with the key `c`
// names when `trusted_key_hex` is empty (then it only shows the checkpoint was not altered).
bool checkpoint_signature_trusted(const SignedCheckpoint& c, std::string_view trusted_key_hex);

// The `prev` the checkpoint signed after `before` must name: the SHA-256 (hex) of before's
// stored bytes, or the genesis value for the first checkpoint (`before` null).
std::string checkpoint_prev_after(const SignedCheckpoint* before);

}  // namespace tl
