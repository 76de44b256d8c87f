// The read side: the token and user tables (in memory, saved with a checkpoint) and the audit
// index (written with the log). It subscribes to the store, so every committed batch is folded
// before its writers are answered (read-your-writes).
//
// Checkpoints: the changed rows and the seq they reflect are written in one batch, so the saved
// state can never be ahead of or behind its checkpoint. Start-up loads them and folds only what
// came after; rebuild() folds from seq 1. Both give the same state (tests check it).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "domain/result.hpp"
#include "eventstore/event_log.hpp"
#include "projections/audit_index.hpp"
#include "projections/owner_snapshots.hpp"
#include "projections/token_table.hpp"
#include "projections/user_table.hpp"

namespace tl {

class ReadModel final : public Subscriber {
 public:
  static constexpr const char* kStateFamily = "projection_state";
  // The state families the log must be opened with for the read model (StoreOptions).
  static std::vector<std::string> column_families();

  // Registers with the store; call before anything is appended. `snapshot_every` spaces the
  // owner snapshots (OwnerSnapshots; other than the default in tests only).
  explicit ReadModel(EventLog& store, std::uint32_t snapshot_every = OwnerSnapshots::kEvery);

  // Loads the last checkpoint and folds the records after it; back-fills the audit index's owner
  // keys once when they are missing (a writable store only). A writable store whose owner
  // snapshots do not cover its history (OwnerSnapshots::kCompleteKey: a directory from before
  // them) forgets its saved state and folds from seq 1 once, writing them.
  Status load(const std::function<void(std::uint64_t)>& progress = {});
  // Forgets every saved state and folds from seq 1 (the audit index too).
  Status rebuild(const std::function<void(std::uint64_t)>& progress = {});
  Status save_checkpoint();
  // Folds the token and user tables again from seq 1, in memory only: the saved state and the
  // audit index are left alone (rebuild's table part, for benchmarks and checks).
  Status refold_tables(const std::function<void(std::uint64_t)>& progress = {});
  // Removes the saved table rows and the checkpoint, so the next load() folds from seq 1; the
  // owner snapshots stay.
  static Status drop_saved_state(EventLog& store);
  // The seq the saved projection state reflects (0: none saved). Never beyond the log's head in
  // a sound data directory: the integrity check refuses one that is.
  static Result<std::uint64_t> saved_checkpoint_seq(const EventLog& store);

  void on_committed(std::span<const Record> records) override;

  std::uint64_t folded_seq() const { return folded_seq_.load(); }
  std::uint64_t checkpoint_seq() const { return checkpoint_seq_.load(); }
  bool caught_up() const { return folded_seq() == store_.head().seq; }

  const TokenTable& tokens() const { return tokens_; }
  TokenTable& tokens() { return tokens_; }
  const UserTable& users() const { return users_; }
  const AuditIndex& audit() const { return audit_; }

  // Save a checkpoint after this many folded records (and at shutdown).
  static constexpr std::uint64_t kCheckpointEvery = 50000;
  static constexpr std::size_t kFlushRows = 10000;

 private:
  void fold(const Record& record);
  Status fold_from(std::uint64_t seq, const std::function<void(std::uint64_t)>& progress);
  Status find_created_seq(UserState& user) const;
  // Loads the saved rows (a sequential pass over the "t/" and then the "u/" keys).
  Status load_saved_rows();
  // True when load() must fold from seq 1 to write the owner snapshots (see there).
  Result<bool> snapshots_missing() const;
  // The audit index's owner keys for a directory written before they existed (AuditIndex).
  void backfill_owner_index(const std::function<void(std::uint64_t)>& progress);

  EventLog& store_;
  TokenTable tokens_;
  UserTable users_;
  AuditIndex audit_;
  OwnerSnapshots snapshots_;
  std::atomic<bool> snapshotting_;  // false while a fold must not write owner snapshots (see load, refold_tables)
  std::mutex save_mutex_;
  std::atomic<std::uint64_t> folded_seq_{0};
  std::atomic<std::uint64_t> checkpoint_seq_{0};
};

}  // namespace tl
