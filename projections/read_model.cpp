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

// Every key of the state is printable ASCII ("t/…", "u/…", "checkpoint"): [\0, \x7f) holds them all.
Status erase_saved_state(StateStore& state) {
  auto s = state.erase_range(ReadModel::kStateFamily, std::string(1, '\0'), std::string(1, '\x7f'));
  if (!s) return Error::unavailable("projection state: " + s.error().message);
  return {};
}

}  // namespace

std::vector<std::string> ReadModel::column_families() { return {kStateFamily, AuditIndex::kColumnFamily}; }

ReadModel::ReadModel(EventLog& store) : store_(store), audit_(store) {
  store_.add_index_writer(&audit_);
  store_.subscribe(this);
}

void ReadModel::fold(const Record& record) {
  tokens_.apply(record);
  users_.apply(record);
  folded_seq_.store(record.seq);
}

void ReadModel::on_committed(std::span<const Record> records) {
  for (const Record& r : records) fold(r);
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
  return store_.read_range_parallel(
      seq, UINT64_MAX,
      [&](const Record& r) {
        fold(r);
        if (progress && ++count % 100000 == 0) progress(count);
        return true;
      },
      RecordFields::fold, threads);
}

Status ReadModel::load(const std::function<void(std::uint64_t)>& progress) {
  auto saved_seq = saved_checkpoint_seq(store_);
  if (!saved_seq) return Error::unavailable("projection state: " + saved_seq.error().message);
  const std::uint64_t saved = *saved_seq;

  // One sequential pass over every saved row.
  Status rows;
  auto scanned =
      store_.state().scan(kStateFamily, {.sequential = true}, [&](std::string_view key, std::string_view value) {
        if (key.starts_with(kTokenPrefix)) {
          // Straight from the encoded bytes: no TokenRow is built per saved row.
          if (!tokens_.load_encoded(value))
            rows = Error::internal("projection state: bad token row " + std::string(key));
        } else if (key.starts_with(kUserPrefix)) {
          auto row = UserTable::decode(value);
          if (!row) {
            rows = Error::internal("projection state: bad user row " + std::string(key));
          } else {
            if (row->active && row->created_seq == 0) rows = find_created_seq(*row);
            if (rows) users_.load_row(std::move(*row));
          }
        }
        return rows.ok();
      });
  if (!rows) return rows;
  if (!scanned) return Error::unavailable("projection state: " + scanned.error().message);
  folded_seq_.store(saved);
  checkpoint_seq_.store(saved);
  backfill_owner_index(progress);
  auto folded = fold_from(saved + 1, progress);
  if (!folded) return folded;
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
    folded_seq_.store(0);
    checkpoint_seq_.store(0);
  }
  if (auto indexed = audit_.rebuild(progress); !indexed) return indexed;
  if (auto folded = fold_from(1, progress); !folded) return folded;
  return save_checkpoint();
}

Status ReadModel::refold_tables(const std::function<void(std::uint64_t)>& progress) {
  {
    std::lock_guard lock(save_mutex_);
    tokens_.clear();
    users_.clear();
    folded_seq_.store(0);
  }
  return fold_from(1, progress);
}

Status ReadModel::drop_saved_state(EventLog& store) { return erase_saved_state(store.state()); }

Result<std::uint64_t> ReadModel::saved_checkpoint_seq(const EventLog& store) {
  auto saved = store.state().get(kStateFamily, kCheckpointKey);
  if (!saved) return std::move(saved).error();
  return *saved ? decode_be64(**saved) : 0;
}

Status ReadModel::save_checkpoint() {
  std::lock_guard lock(save_mutex_);
  const std::uint64_t seq = folded_seq();
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
