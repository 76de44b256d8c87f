#include "eventstore/raw_events.hpp"

#include <rocksdb/db.h>

#include <vector>

#include "eventstore/event_log.hpp"

namespace tl {

struct RawEvents::Impl {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::ColumnFamilyHandle* events = nullptr;
};

RawEvents::RawEvents(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RawEvents::~RawEvents() {
  for (auto* h : impl_->handles) impl_->db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  impl_->db->Close().PermitUncheckedError();
}

Result<std::unique_ptr<RawEvents>> RawEvents::open(const std::string& db_dir, bool writable) {
  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName, "events"};
  if (writable) {
    // Every column family must be opened to open the database for writing.
    names.clear();
    auto s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), db_dir, &names);
    if (!s.ok()) return Error::unavailable("list column families: " + s.ToString());
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  auto impl = std::make_unique<Impl>();
  rocksdb::DB* raw = nullptr;
  const auto s = writable ? rocksdb::DB::Open(rocksdb::DBOptions(), db_dir, descriptors, &impl->handles, &raw)
                          : rocksdb::DB::OpenForReadOnly(rocksdb::Options(), db_dir, descriptors, &impl->handles, &raw);
  if (!s.ok()) return Error::unavailable("open " + db_dir + ": " + s.ToString());
  impl->db.reset(raw);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "events") impl->events = impl->handles[i];
  }
  std::unique_ptr<RawEvents> opened(new RawEvents(std::move(impl)));
  if (opened->impl_->events == nullptr) return Error::unavailable("no events column family in " + db_dir);
  return opened;
}

Result<std::optional<std::string>> RawEvents::get(std::uint64_t seq) const {
  std::string value;
  const auto s = impl_->db->Get({}, impl_->events, encode_be64(seq), &value);
  if (s.IsNotFound()) return std::optional<std::string>{};
  if (!s.ok()) return Error::unavailable("get seq " + std::to_string(seq) + ": " + s.ToString());
  return std::optional<std::string>{std::move(value)};
}

Status RawEvents::put(std::uint64_t seq, std::optional<std::string_view> bytes) {
  rocksdb::WriteOptions options;
  options.sync = true;
  const std::string key = encode_be64(seq);
  const auto s = bytes ? impl_->db->Put(options, impl_->events, key, rocksdb::Slice(bytes->data(), bytes->size()))
                       : impl_->db->Delete(options, impl_->events, key);
  if (!s.ok()) return Error::unavailable("write seq " + std::to_string(seq) + ": " + s.ToString());
  return {};
}

Status RawEvents::scan(const std::function<bool(std::uint64_t, std::string_view)>& visit) const {
  // The same read options as EventStore::read_range, which the fold uses.
  rocksdb::ReadOptions options;
  options.readahead_size = 2 << 20;
  options.adaptive_readahead = true;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(options, impl_->events));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!visit(decode_be64(it->key().ToStringView()), it->value().ToStringView())) break;
  }
  if (!it->status().ok()) return Error::unavailable(it->status().ToString());
  return {};
}

}  // namespace tl
