#include "projections/read_model.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace tl {
namespace {

constexpr std::string_view kCheckpointKey = "checkpoint";
constexpr std::string_view kTokenPrefix = "t/";
constexpr std::string_view kUserPrefix = "u/";

// Every key of the state starts with a printable ASCII byte ("t/…", "u/…", "s/…", "s#complete",
// "checkpoint"): [\0, \x7f) holds them all.
Status erase_saved_state(StateStore& state) {
  auto s = state.erase_range(ReadModel::kStateFamily, std::string(1, '\0'), std::string(1, '\x7f'));
  if (!s) return Error::unavailable("projection state: " + s.error().message);
  return {};
}

}  // namespace

std::vector<std::string> ReadModel::column_families() { return {kStateFamily, AuditIndex::kColumnFamily}; }

ReadModel::ReadModel(EventLog& store, std::uint32_t snapshot_every)
    : store_(store), audit_(store), snapshots_(store.state(), snapshot_every), snapshotting_(!store.read_only()) {
  store_.add_index_writer(&audit_);
  store_.subscribe(this);
}

void ReadModel::fold(const Record& record) {
  tokens_.apply(record);
  if (snapshotting_) snapshots_.after_fold(record, tokens_);
  users_.apply(record);
  folded_seq_.store(record.seq);
}

void ReadModel::on_committed(std::span<const Record> records) {
  for (const Record& r : records) fold(r);
  if (snapshotting_) {
    if (auto written = snapshots_.flush(); !written) spdlog::warn("{}", written.error().message);
  }
  if (folded_seq() - checkpoint_seq() >= kCheckpointEvery) {
    if (auto saved = save_checkpoint(); !saved) {
      spdlog::warn("projection checkpoint not saved: {}", saved.error().message);
    }
  }
}

Status ReadModel::fold_from(std::uint64_t seq, const std::function<void(std::uint64_t)>& progress) {
  std::uint64_t count = 0;
  // Decoding dominates the fold: spread it over the cores (the fold itself stays on this thread).
  const unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
  auto folded = store_.read_range_parallel(
      seq, UINT64_MAX,
      [&](const Record& r) {
        fold(r);
        if (progress && ++count % 100000 == 0) progress(count);
        return true;
      },
      RecordFields::fold, threads);
  if (!folded) return folded;
  if (snapshotting_) {
    if (auto written = snapshots_.flush(); !written) spdlog::warn("{}", written.error().message);
  }
  return {};
}

Result<bool> ReadModel::snapshots_missing() const {
  if (store_.read_only()) return false;  // it could not write them: as_of folds more instead
  auto complete = OwnerSnapshots::complete(store_.state());
  if (!complete) return std::move(complete).error();
  return !*complete;
}

Status ReadModel::load_saved_rows() {
  Status rows;
  auto visit = [&](std::string_view key, std::string_view value) {
    if (key.starts_with(kTokenPrefix)) {
      // Straight from the encoded bytes: no TokenRow is built per saved row.
      if (!tokens_.load_encoded(value)) rows = Error::internal("projection state: bad token row " + std::string(key));
    } else {
      auto row = UserTable::decode(value);
      if (!row) {
        rows = Error::internal("projection state: bad user row " + std::string(key));
      } else {
        if (row->active && row->created_seq == 0) rows = find_created_seq(*row);
        if (rows) users_.load_row(std::move(*row));
      }
    }
    return rows.ok();
  };
  // One sequential pass over each kind of row; the owner snapshots between them are not read.
  for (std::string_view prefix : {kTokenPrefix, kUserPrefix}) {
    auto scanned = store_.state().scan(kStateFamily, {.prefix = prefix, .sequential = true}, visit);
    if (!rows) return rows;
    if (!scanned) return Error::unavailable("projection state: " + scanned.error().message);
  }
  return {};
}

Status ReadModel::load(const std::function<void(std::uint64_t)>& progress) {
  auto saved_seq = saved_checkpoint_seq(store_);
  if (!saved_seq) return Error::unavailable("projection state: " + saved_seq.error().message);
  std::uint64_t saved = *saved_seq;
  auto missing = snapshots_missing();
  if (!missing) return std::move(missing).error();
  const bool backfill_snapshots = *missing;
  if (backfill_snapshots) {
    // Once per data directory: the saved rows are dropped with the checkpoint, so that the fold
    // from seq 1 writes every snapshot and the next checkpoint saves every row again.
    if (store_.head().seq > 0) {
      spdlog::info("owner snapshots: folding the log from seq 1 once to write them ({} events)", store_.head().seq);
    }
    if (auto erased = erase_saved_state(store_.state()); !erased) return erased;
    saved = 0;
  } else if (auto rows = load_saved_rows(); !rows) {
    return rows;
  }
  folded_seq_.store(saved);
  checkpoint_seq_.store(saved);
  backfill_owner_index(progress);
  // A fold from seq 1 over a directory whose snapshots are complete (its checkpoint was dropped)
  // would only write them again; after a checkpoint, the records a crash left unsaved may lack theirs.
  snapshotting_ = !store_.read_only() && (backfill_snapshots || saved > 0);
  auto folded = fold_from(saved + 1, progress);
  snapshotting_ = !store_.read_only();
  if (!folded) return folded;
  if (backfill_snapshots) {
    if (auto marked = OwnerSnapshots::mark_complete(store_.state()); !marked) return marked;
    if (auto checkpoint = save_checkpoint(); !checkpoint) return checkpoint;
  }
  spdlog::info("projections loaded: checkpoint at seq {}, folded {} newer events, {} tokens", saved,
               folded_seq() - saved, tokens_.size());
  return {};
}

void ReadModel::backfill_owner_index(const std::function<void(std::uint64_t)>& progress) {
  auto complete = AuditIndex::owner_index_complete(store_);
  if (complete && *complete) return;
  const auto started = std::chrono::steady_clock::now();
  if (auto filled = audit_.backfill_owner_index(progress); !filled) {
    // A read-only open cannot write it: point-in-time lists then fold the log, as before.
    spdlog::warn("the audit index's owner keys are not back-filled ({}): point-in-time token lists fold the whole log",
                 filled.error().message);
    return;
  }
  spdlog::info(
      "audit index: owner keys back-filled for {} records in {} ms", store_.head().seq,
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
}

Status ReadModel::find_created_seq(UserState& user) const {
  // A row saved before the user's identity was kept: its latest UserCreated is in its stream
  // (a few records), cheaper than folding everything again.
  return store_.read_stream(user_stream(user.username), [&](const Record& r) {
    if (std::holds_alternative<UserCreated>(r.event)) user.created_seq = r.seq;
    return true;
  });
}

Status ReadModel::rebuild(const std::function<void(std::uint64_t)>& progress) {
  {
    std::lock_guard lock(save_mutex_);
    if (auto erased = erase_saved_state(store_.state()); !erased) return erased;
    tokens_.clear();
    users_.clear();
    snapshots_.reset();
    folded_seq_.store(0);
    checkpoint_seq_.store(0);
  }
  if (auto indexed = audit_.rebuild(progress); !indexed) return indexed;
  if (auto folded = fold_from(1, progress); !folded) return folded;
  if (auto marked = OwnerSnapshots::mark_complete(store_.state()); !marked) return marked;
  return save_checkpoint();
}

Status ReadModel::refold_tables(const std::function<void(std::uint64_t)>& progress) {
  {
    std::lock_guard lock(save_mutex_);
    tokens_.clear();
    users_.clear();
    folded_seq_.store(0);
  }
  // In memory only: the snapshots on disk are left as they are.
  snapshotting_ = false;
  auto folded = fold_from(1, progress);
  snapshotting_ = !store_.read_only();
  return folded;
}

Status ReadModel::drop_saved_state(EventLog& store) {
  // The owner snapshots stay: each holds what the log gives at its seq, checkpoint or not, and
  // writing them again would make a start without a checkpoint slower than one ever was.
  StateStore& state = store.state();
  for (auto [from, to] :
       {std::pair<std::string, std::string>{std::string(1, '\0'), std::string(OwnerSnapshots::kPrefix.substr(0, 1))},
        std::pair<std::string, std::string>{"t", std::string(1, '\x7f')}}) {
    if (auto s = state.erase_range(kStateFamily, from, to); !s)
      return Error::unavailable("projection state: " + s.error().message);
  }
  return {};
}

Result<std::uint64_t> ReadModel::saved_checkpoint_seq(const EventLog& store) {
  auto saved = store.state().get(kStateFamily, kCheckpointKey);
  if (!saved) return std::move(saved).error();
  return *saved ? decode_be64(**saved) : 0;
}

Status ReadModel::save_checkpoint() {
  std::lock_guard lock(save_mutex_);
  const std::uint64_t seq = folded_seq();
  // Where processes share the log (PostgreSQL), one saves the shared checkpoint, and never over
  // one saved further on by another (its rows would be older than the checkpoint says). The
  // changes stay pending until this process saves.
  if (!store_.runs_singletons()) return {};
  if (auto saved = saved_checkpoint_seq(store_); saved && *saved > seq) return {};
  StateStore& state = store_.state();
  auto batch = state.new_batch();
  // Row by row, already encoded: after a rebuild every token is a change, and building them
  // all as TokenRows at once would briefly double the table's memory.
  std::string key(kTokenPrefix);
  std::size_t rows = 0;
  tokens_.take_changes(
      [&](const std::string& id, const std::string& encoded) {
        key.resize(kTokenPrefix.size());
        batch->put(kStateFamily, key.append(id), encoded);
        ++rows;
      },
      [&](const std::string& id) {
        key.resize(kTokenPrefix.size());
        batch->erase(kStateFamily, key.append(id));
        ++rows;
      });
  for (const auto& user : users_.take_changes().upserted) {
    batch->put(kStateFamily, std::string(kUserPrefix) + user.username, UserTable::encode(user));
  }
  batch->put(kStateFamily, kCheckpointKey, encode_be64(seq));
  // Not synced: a lost checkpoint only means folding a little more at the next start.
  if (auto s = state.write(*batch); !s) return Error::unavailable("projection checkpoint: " + s.error().message);
  checkpoint_seq_.store(seq);
  // A large checkpoint (every row after a start without one, or a rebuild) is flushed to a table
  // file at once: left in the WAL, the next open replays it first — at 1 M tokens that made
  // start-up take seconds instead of well under one. Small ones are not worth the flush.
  if (rows >= kFlushRows) state.flush(kStateFamily);
  return {};
}

}  // namespace tl
