// Per-owner snapshots of the token table (issue 16), so that an auditor's point-in-time list of
// one owner's tokens (point_in_time.hpp) starts from the newest snapshot at or before the moment
// and folds only that owner's records after it: O(kEvery + the owner's rows) reads, however long
// the owner's history is.
//
// ReadModel writes them as it folds. Once an owner has had max(kEvery, its rows) records since
// its last snapshot, its rows as they stand after that record are saved under
// "s/" owner \0 be64(seq) in the projection state family (ReadModel::kStateFamily). Spacing them
// by at least the owner's row count keeps the bytes written at O(one row) per record, however
// many tokens an owner holds. Like the rest of the projection state they are not synced: a lost
// one only means folding more. The integrity check (service/integrity.hpp) compares each with
// the log. The key kCompleteKey says the snapshots were written by a fold from seq 1, so every
// owner's history is covered; a writable start without it folds from seq 1 once (ReadModel::load).
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.hpp"
#include "eventstore/record.hpp"
#include "eventstore/state_store.hpp"
#include "projections/token_table.hpp"

namespace tl {

class OwnerSnapshots {
 public:
  static constexpr std::string_view kPrefix = "s/";
  static constexpr std::string_view kCompleteKey = "s#complete";
  // The fewest of an owner's records between two of its snapshots: an as_of folds at most about
  // twice this many records after the snapshot it starts from.
  static constexpr std::uint32_t kEvery = 128;
  // Queued snapshots are written once they reach this many bytes (and at every flush()).
  static constexpr std::size_t kFlushBytes = 4 << 20;

  // `every` other than kEvery is for tests (snapshots every few records).
  explicit OwnerSnapshots(StateStore& state, std::uint32_t every = kEvery);

  // After `record` was folded into `table`: counts it against its owner (records without one are
  // ignored; an owner first seen by this process starts from its records since its newest
  // snapshot, counted from the audit index's owner keys) and, when the owner is due, queues its
  // rows as they stand now as the snapshot at record.seq. Writes the queue when it grows past kFlushBytes; a failed
  // write is logged and dropped (snapshots only save work).
  void after_fold(const Record& record, const TokenTable& table);
  // Writes what is queued, in one batch. Errors: unavailable (the queue is dropped).
  Status flush();
  // Forgets the counts (the next snapshots come kEvery records later) and the queue.
  void reset();

  // The key of `owner`'s snapshot at `seq`, and the prefix of all of the owner's.
  static std::string key(std::string_view owner, std::uint64_t seq);
  static std::string owner_prefix(std::string_view owner);
  // The owner named by a snapshot key and the seq it is at; nullopt for a key of another form.
  static std::optional<std::pair<std::string, std::uint64_t>> parse_key(std::string_view key);
  // The rows of a snapshot, oldest first; nullopt when the bytes do not decode.
  static std::optional<std::vector<TokenRow>> decode(std::string_view bytes);

  struct Snapshot {
    std::uint64_t seq = 0;
    std::vector<TokenRow> rows;
  };
  // The newest snapshot of `owner` at or before `seq` (one seek), nullopt when none. Errors:
  // unavailable; internal when it does not decode.
  static Result<std::optional<Snapshot>> nearest(const StateStore& state, std::string_view owner, std::uint64_t seq);
  // True when kCompleteKey is there. Errors: unavailable.
  static Result<bool> complete(const StateStore& state);
  // Writes kCompleteKey. Errors: unavailable.
  static Status mark_complete(StateStore& state);

 private:
  std::uint64_t records_since_snapshot(const std::string& owner, std::uint64_t seq) const;

  StateStore& state_;
  const std::uint32_t every_;
  boost::unordered_flat_map<std::string, std::uint32_t> since_last_;  // owner → records since its snapshot
  std::unique_ptr<StateBatch> batch_;
  std::size_t queued_bytes_ = 0;
};

}  // namespace tl
