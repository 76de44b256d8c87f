// Point-in-time views: the token table as it stood at a moment, folded from the log up to a
// time or a seq. Used by auditors (GET /api/v1/tokens?owner=&as_of=) and `tokenledger-admin
// replay`. Deleted tokens are absent, exactly as the live table would have shown them then.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/result.hpp"
#include "eventstore/event_log.hpp"
#include "projections/token_table.hpp"

namespace tl {

struct AsOf {
  std::optional<Timestamp> until;          // records with at <= until (a point in time; a finer bound floors)
  std::optional<std::uint64_t> until_seq;  // records with seq <= until_seq
  std::string owner;                       // only this owner's tokens, when set
  std::string token_id;                    // only this token, when set
};

// The tokens as they stood, newest first; each row's state is as of that moment. With a token it
// folds only that token's records, found through the audit index; with an owner it starts from
// the owner's newest snapshot at or before the moment (owner_snapshots.hpp) and folds the owner's
// records after it; the time bound is found by binary search. O(log n + the owner's rows +
// OwnerSnapshots::kEvery) reads, not O(n) (issue 16). Without the index's owner keys (a directory not yet back-filled,
// opened read-only) or with neither filter it folds the log from seq 1, as tokens_as_of_full. The answer is the same
// either way (tests compare the two). The store must have been opened with the audit index family
// (ReadModel::column_families()). Errors: unavailable, internal.
Result<std::vector<TokenRow>> tokens_as_of(const EventLog& store, const AsOf& as_of);

// The same, always folding the log from seq 1 (`tokenledger-admin replay --full`; the tests'
// oracle): O(records up to the moment).
Result<std::vector<TokenRow>> tokens_as_of_full(const EventLog& store, const AsOf& as_of);

}  // namespace tl
