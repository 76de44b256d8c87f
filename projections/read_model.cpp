#include "projections/read_model.hpp"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

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
  return store_.read_range(seq, UINT64_MAX, [&](const Record& r) {
    fold(r);
    if (progress && ++count % 100000 == 0) progress(count);
    return true;
  });
}

Status ReadModel::load(const std::function<void(std::uint64_t)>& progress) {
  auto& db = store_.db();
  auto* cf = store_.column_family(kStateFamily);
  std::string checkpoint;
  auto s = db.Get({}, cf, kCheckpointKey, &checkpoint);
  if (!s.ok() && !s.IsNotFound()) return Error::unavailable("projection state: " + s.ToString());
  const std::uint64_t saved = s.ok() ? decode_be64(checkpoint) : 0;

  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator({}, cf));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const auto key = it->key().ToStringView();
    const auto value = it->value().ToStringView();
    if (key.starts_with(kTokenPrefix)) {
      auto row = TokenTable::decode(value);
      if (!row) return Error::internal("projection state: bad token row " + std::string(key));
      tokens_.load_row(std::move(*row));
    } else if (key.starts_with(kUserPrefix)) {
      auto row = UserTable::decode(value);
      if (!row) return Error::internal("projection state: bad user row " + std::string(key));
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

Status ReadModel::save_checkpoint() {
  std::lock_guard lock(save_mutex_);
  const std::uint64_t seq = folded_seq();
  auto* cf = store_.column_family(kStateFamily);
  rocksdb::WriteBatch batch;
  auto token_changes = tokens_.take_changes();
  for (const auto& row : token_changes.upserted) {
    batch.Put(cf, std::string(kTokenPrefix) + row.state.id, TokenTable::encode(row));
  }
  for (const auto& id : token_changes.removed) batch.Delete(cf, std::string(kTokenPrefix) + id);
  for (const auto& user : users_.take_changes().upserted) {
    batch.Put(cf, std::string(kUserPrefix) + user.username, UserTable::encode(user));
  }
  batch.Put(cf, kCheckpointKey, encode_be64(seq));
  // Not synced: a lost checkpoint only means folding a little more at the next start.
  auto s = store_.db().Write({}, &batch);
  if (!s.ok()) return Error::unavailable("projection checkpoint: " + s.ToString());
  checkpoint_seq_.store(seq);
  return {};
}

}  // namespace tl
