// The stores beside the log in the same database: the side stores (SideStore: keys,
// credentials, meta), the projections' families (StateStore), and the raw writes of tamper tests.
#include <rocksdb/options.h>

#include <algorithm>

#include "eventstore/event_store_impl.hpp"

namespace tl {
namespace {

// One pass over a column family, from the first key with `prefix`, until `visit` returns false.
Status scan_family(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, std::string_view name, const StateScan& how,
                   const std::function<bool(std::string_view, std::string_view)>& visit) {
  rocksdb::ReadOptions options;
  if (how.sequential) {
    options.fill_cache = false;
    options.adaptive_readahead = true;
    options.readahead_size = 2 << 20;
  }
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(options, cf));
  // string_view's starts_with, not Slice's: an empty prefix has no data pointer, and Slice
  // passes it to memcmp (undefined behaviour, which UBSan reports).
  const std::string_view seek_to = std::max(how.prefix, how.from);
  for (it->Seek(rocksdb::Slice(seek_to.data(), seek_to.size()));
       it->Valid() && it->key().ToStringView().starts_with(how.prefix); it->Next()) {
    if (!visit(it->key().ToStringView(), it->value().ToStringView())) break;
  }
  if (!it->status().ok()) return Error::unavailable(std::string(name) + ": " + it->status().ToString());
  return {};
}

Result<std::optional<std::string>> get_key(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, std::string_view key) {
  std::string value;
  const auto s = db.Get({}, cf, rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>{};
  if (!s.ok()) return storage_error(s);
  return std::optional<std::string>{std::move(value)};
}

Result<bool> has_key(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, std::string_view name, std::string_view key) {
  std::string value;
  const auto s = db.Get({}, cf, rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return false;
  if (!s.ok()) return Error::unavailable(std::string(name) + ": " + s.ToString());
  return true;
}

Result<std::optional<std::string>> last_key(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, std::string_view name,
                                            std::string_view prefix) {
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator({}, cf));
  it->SeekForPrev(std::string(prefix) + std::string(16, '\xff'));
  if (!it->status().ok()) return Error::unavailable(std::string(name) + ": " + it->status().ToString());
  if (!it->Valid() || !it->key().ToStringView().starts_with(prefix)) return std::optional<std::string>{};
  return std::optional<std::string>{it->key().ToString()};
}

rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }

Result<std::optional<StateEntry>> entry_at_or_before(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf,
                                                     std::string_view name, std::string_view prefix,
                                                     std::string_view bound) {
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator({}, cf));
  it->SeekForPrev(slice(bound));
  if (!it->status().ok()) return Error::unavailable(std::string(name) + ": " + it->status().ToString());
  if (!it->Valid() || !it->key().ToStringView().starts_with(prefix)) return std::optional<StateEntry>{};
  return std::optional<StateEntry>{StateEntry{it->key().ToString(), it->value().ToString()}};
}

}  // namespace

void RocksBatch::put(std::string_view family, std::string_view key, std::string_view value) {
  batch_.Put(impl_.cf(family), slice(key), slice(value)).PermitUncheckedError();
}

void RocksBatch::erase(std::string_view family, std::string_view key) {
  batch_.Delete(impl_.cf(family), slice(key)).PermitUncheckedError();
}

// Writes beside the log are refused as appends are while the disk is nearly full (issue 6): a
// write RocksDB attempts and fails there leaves its write-ahead log writer in an error state, which
// RocksDB's own assertion trips over at close (seen in FaultDiskFull: abort at shutdown).
namespace {
Status refuse_near_full(const EventStore::Impl& impl) {
  if (!impl.disk_nearly_full()) return {};
  return Error::unavailable("The server cannot write at the moment; nothing was changed. Try again later.");
}
}  // namespace

// ---- SideStore ----

Result<std::optional<std::string>> EventStore::get_side(SideStore store, std::string_view key) const {
  return get_key(*impl_->db, impl_->cf(store), key);
}

Status EventStore::put_side(SideStore store, std::string_view key, std::string_view value) {
  if (auto refused = refuse_near_full(*impl_); !refused) return refused;
  rocksdb::WriteOptions sync;
  sync.sync = impl_->options.sync;
  const auto s = impl_->db->Put(sync, impl_->cf(store), slice(key), slice(value));
  if (!s.ok()) return storage_error(s);
  return {};
}

Status EventStore::scan_side(SideStore store, const std::function<bool(std::string_view, std::string_view)>& visit,
                             std::string_view prefix) const {
  return scan_family(*impl_->db, impl_->cf(store), side_store_name(store), {.prefix = prefix}, visit);
}

Result<bool> EventStore::side_has(SideStore store, std::string_view key) const {
  return has_key(*impl_->db, impl_->cf(store), side_store_name(store), key);
}

Result<std::optional<std::string>> EventStore::last_key_with_prefix(SideStore store, std::string_view prefix) const {
  return last_key(*impl_->db, impl_->cf(store), side_store_name(store), prefix);
}

// ---- StateStore ----

Result<std::optional<std::string>> EventStore::get(std::string_view family, std::string_view key) const {
  return get_key(*impl_->db, impl_->cf(family), key);
}

Result<bool> EventStore::has(std::string_view family, std::string_view key) const {
  return has_key(*impl_->db, impl_->cf(family), family, key);
}

Status EventStore::scan(std::string_view family, const StateScan& how,
                        const std::function<bool(std::string_view, std::string_view)>& visit) const {
  return scan_family(*impl_->db, impl_->cf(family), family, how, visit);
}

Result<std::optional<std::string>> EventStore::last_key_with_prefix(std::string_view family,
                                                                    std::string_view prefix) const {
  return last_key(*impl_->db, impl_->cf(family), family, prefix);
}

Result<std::optional<StateEntry>> EventStore::last_entry_at_or_before(std::string_view family, std::string_view prefix,
                                                                      std::string_view bound) const {
  return entry_at_or_before(*impl_->db, impl_->cf(family), family, prefix, bound);
}

namespace {

// A StateBatch that owns its WriteBatch.
class OwnedRocksBatch final : public StateBatch {
 public:
  explicit OwnedRocksBatch(const EventStore::Impl& impl) : view_(impl, batch_) {}
  void put(std::string_view family, std::string_view key, std::string_view value) override {
    view_.put(family, key, value);
  }
  void erase(std::string_view family, std::string_view key) override { view_.erase(family, key); }
  void clear() override { batch_.Clear(); }
  rocksdb::WriteBatch& batch() { return batch_; }

 private:
  rocksdb::WriteBatch batch_;
  RocksBatch view_;
};

}  // namespace

std::unique_ptr<StateBatch> EventStore::new_batch() const { return std::make_unique<OwnedRocksBatch>(*impl_); }

Status EventStore::write(StateBatch& batch) {
  if (auto refused = refuse_near_full(*impl_); !refused) return refused;
  auto& rocks = dynamic_cast<OwnedRocksBatch&>(batch);  // only batches of new_batch() are accepted
  const auto s = impl_->db->Write({}, &rocks.batch());
  if (!s.ok()) return storage_error(s);
  return {};
}

Result<bool> EventStore::replace_existing(std::string_view family, std::string_view key, std::string_view value) {
  // One process writes a RocksDB log, and its callers serialize their changes of one key.
  auto present = has(family, key);
  if (!present || !*present) return present;
  if (auto refused = refuse_near_full(*impl_); !refused) return std::move(refused).error();
  const auto s = impl_->db->Put({}, impl_->cf(family), slice(key), slice(value));
  if (!s.ok()) return storage_error(s);
  return true;
}

Status EventStore::erase_range(std::string_view family, std::string_view from, std::string_view to) {
  const auto s = impl_->db->DeleteRange({}, impl_->cf(family), slice(from), slice(to));
  if (!s.ok()) return Error::unavailable(std::string(family) + ": " + s.ToString());
  return {};
}

void EventStore::flush(std::string_view family) {
  impl_->db->Flush(rocksdb::FlushOptions(), impl_->cf(family)).PermitUncheckedError();
}

// ---- damage on purpose ----

Status EventStore::raw_write(std::string_view family, std::string_view key, std::optional<std::string_view> value) {
  rocksdb::WriteOptions sync;
  sync.sync = true;
  const auto s = value ? impl_->db->Put(sync, impl_->cf(family), slice(key), slice(*value))
                       : impl_->db->Delete(sync, impl_->cf(family), slice(key));
  if (!s.ok()) return storage_error(s);
  return {};
}

}  // namespace tl
