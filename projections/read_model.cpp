#include "projections/read_model.hpp"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

namespace tl {
namespace {

constexpr std::string_view kCheckpointKey = "checkpoint";
constexpr std::string_view kTokenPrefix = "t/";
constexpr std::string_view kUserPrefix = "u/";

}  // namespace

std::vector<std::string> ReadModel::column_families() { return {kStateFamily, AuditIndex::kColumnFamily}; }

ReadModel::ReadModel(EventStore& store) : store_(store), audit_(store) {
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
  auto& db = store_.db();
  auto* cf = store_.column_family(kStateFamily);
  std::string checkpoint;
  auto s = db.Get({}, cf, kCheckpointKey, &checkpoint);
  if (!s.ok() && !s.IsNotFound()) return Error::unavailable("projection state: " + s.ToString());
  const std::uint64_t saved = s.ok() ? decode_be64(checkpoint) : 0;

  // One sequential pass over every saved row: read ahead and keep it out of the block cache.
  rocksdb::ReadOptions scan;
  scan.fill_cache = false;
  scan.adaptive_readahead = true;
  scan.readahead_size = 2 << 20;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(scan, cf));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const auto key = it->key().ToStringView();
    const auto value = it->value().ToStringView();
    if (key.starts_with(kTokenPrefix)) {
      // Straight from the encoded bytes: no TokenRow is built per saved row.
      if (!tokens_.load_encoded(value)) {
        return Error::internal("projection state: bad token row " + std::string(key));
      }
    } else if (key.starts_with(kUserPrefix)) {
      auto row = UserTable::decode(value);
      if (!row) return Error::internal("projection state: bad user row " + std::string(key));
      if (row->active && row->created_seq == 0) {
        if (auto found = find_created_seq(*row); !found) return found;
      }
      users_.load_row(std::move(*row));
    }
  }
  if (!it->status().ok()) return Error::unavailable("projection state: " + it->status().ToString());
  it.reset();
  folded_seq_.store(saved);
  checkpoint_seq_.store(saved);
  auto folded = fold_from(saved + 1, progress);
  if (!folded) return folded;
  spdlog::info("projections loaded: checkpoint at seq {}, folded {} newer events, {} tokens", saved,
               folded_seq() - saved, tokens_.size());
  return {};
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
    auto* cf = store_.column_family(kStateFamily);
    auto s = store_.db().DeleteRange({}, cf, std::string(1, '\0'), std::string(1, '\x7f'));
    if (!s.ok()) return Error::unavailable("projection state: " + s.ToString());
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

Status ReadModel::drop_saved_state(EventStore& store) {
  auto* cf = store.column_family(kStateFamily);
  // Every key of the state is printable ASCII ("t/…", "u/…", "checkpoint").
  auto s = store.db().DeleteRange({}, cf, std::string(1, '\0'), std::string(1, '\x7f'));
  if (!s.ok()) return Error::unavailable("projection state: " + s.ToString());
  return {};
}

Result<std::uint64_t> ReadModel::saved_checkpoint_seq(const EventStore& store) {
  auto saved = store.get_side(kStateFamily, std::string(kCheckpointKey));
  if (!saved) return std::move(saved).error();
  return *saved ? decode_be64(**saved) : 0;
}

Status ReadModel::save_checkpoint() {
  std::lock_guard lock(save_mutex_);
  const std::uint64_t seq = folded_seq();
  auto* cf = store_.column_family(kStateFamily);
  rocksdb::WriteBatch batch;
  // Row by row, already encoded: after a rebuild every token is a change, and building them
  // all as TokenRows at once would briefly double the table's memory.
  std::string key(kTokenPrefix);
  std::size_t rows = 0;
  tokens_.take_changes(
      [&](const std::string& id, const std::string& encoded) {
        key.resize(kTokenPrefix.size());
        batch.Put(cf, key.append(id), encoded);
        ++rows;
      },
      [&](const std::string& id) {
        key.resize(kTokenPrefix.size());
        batch.Delete(cf, key.append(id));
        ++rows;
      });
  for (const auto& user : users_.take_changes().upserted) {
    batch.Put(cf, std::string(kUserPrefix) + user.username, UserTable::encode(user));
  }
  batch.Put(cf, kCheckpointKey, encode_be64(seq));
  // Not synced: a lost checkpoint only means folding a little more at the next start.
  auto s = store_.db().Write({}, &batch);
  if (!s.ok()) return Error::unavailable("projection checkpoint: " + s.ToString());
  checkpoint_seq_.store(seq);
  // A large checkpoint (every row after a start without one, or a rebuild) is flushed to a table
  // file at once: left in the WAL, the next open replays it first — at 1 M tokens that made
  // start-up take seconds instead of well under one. Small ones are not worth the flush.
  if (rows >= kFlushRows) store_.db().Flush(rocksdb::FlushOptions(), cf).PermitUncheckedError();
  return {};
}

}  // namespace tl
