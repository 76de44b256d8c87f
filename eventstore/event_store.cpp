// Opening and closing the embedded log, and its small accessors. The group commit is in
// appender.cpp, reads in reads.cpp, the side and state stores in side_stores.cpp.
#include "eventstore/event_store.hpp"

#include <rocksdb/options.h>

#include <algorithm>
#include <future>

#include "eventstore/event_store_impl.hpp"
#include "eventstore/imported_records.hpp"

namespace tl {

std::string encode_be64(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xFF);
  return out;
}

std::string stream_index_key(std::string_view stream, std::uint64_t version) {
  std::string key;
  key.reserve(stream.size() + 9);
  key.append(stream);
  key.push_back('\0');
  key += encode_be64(version);
  return key;
}

std::uint64_t decode_be64(std::string_view bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < bytes.size(); ++i) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

std::string_view side_store_name(SideStore store) {
  switch (store) {
    case SideStore::keys:
      return "keys";
    case SideStore::credentials:
      return "credentials";
    case SideStore::meta:
      return "meta";
  }
  return "meta";
}

std::string encode_head_marker(const Head& head) { return encode_be64(head.seq) + head.hash; }

std::optional<Head> decode_head_marker(std::string_view bytes) {
  if (bytes.size() != 8 + kGenesisHash.size()) return std::nullopt;
  return Head{decode_be64(bytes.substr(0, 8)), std::string(bytes.substr(8))};
}

Error storage_error(const rocksdb::Status& s) {
  return Error::unavailable("The event log cannot be read or written (" + s.ToString() + "); nothing was changed.");
}

rocksdb::ColumnFamilyHandle* EventStore::Impl::cf(std::string_view name) const {
  const auto found = families.find(name);
  if (found == families.end()) throw std::out_of_range("no column family " + std::string(name) + " was opened");
  return found->second;
}

namespace {

constexpr const char* kCoreFamilies[] = {"events", "streams", "keys", "credentials", "meta"};

// Reads the head (the last record) and the head marker into a freshly opened store.
Status load_head(EventStore::Impl& opened) {
  std::unique_ptr<rocksdb::Iterator> it(opened.db->NewIterator({}, opened.cf("events")));
  it->SeekToLast();
  if (it->Valid()) {
    auto last = decode_record(it->value().ToStringView());
    if (last) {
      opened.head = {last->seq, last->hash};
      opened.last_at = last->at;
    } else if (!opened.options.read_only) {
      // A writer must not chain onto a record it cannot read; a reader may still verify.
      return Error::internal("the last event record cannot be read (" + last.error().message +
                             "); run tokenledger-admin verify");
    }
  }
  if (!it->status().ok()) return storage_error(it->status());
  it.reset();
  std::string marker;
  if (auto got = opened.db->Get({}, opened.cf(SideStore::meta), kHeadMarkerKey, &marker); got.ok()) {
    opened.head_marker = decode_head_marker(marker);
    if (!opened.head_marker)
      return Error::internal("the head marker in meta is malformed; run tokenledger-admin verify");
  } else if (!got.IsNotFound()) {
    return storage_error(got);
  }
  return {};
}

}  // namespace

EventStore::EventStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EventStore::~EventStore() { close(); }

Result<std::unique_ptr<EventStore>> EventStore::open(const std::string& dir, StoreOptions options) {
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // Two cores: one background job each for flushes and compactions.
  db_options.max_background_jobs = 2;
  // A crash may lose at most what was never acknowledged; refuse to open a WAL with a hole.
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // Pre-allocation (issue 16): RocksDB fallocated each write-ahead log file
  // write_buffer_size * 1.1 ahead (70 MB) and the MANIFEST 4 MB, so a fresh data directory took
  // 75 MB before its first event. Off: synced appends measured the same without it (bench_store
  // BM_DurableAppend, 3 runs each: 9.8 k/s off, 9.4 k/s on; a cap of 8 MB on the log, the other
  // way to shrink it, would also have made the memtables flush every 8 MB of log).
  db_options.allow_fallocate = false;
  // RocksDB's own info log: every open renames LOG to LOG.old.<time> (~100 KB each), and 1000
  // were kept, so each restart grew the data directory for good.
  db_options.keep_log_file_num = 4;

  std::vector<std::string> names(std::begin(kCoreFamilies), std::end(kCoreFamilies));
  names.insert(names.end(), options.extra_column_families.begin(), options.extra_column_families.end());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions{});
  for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions{});

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  if (options.read_only) {
    s = rocksdb::DB::OpenForReadOnly(db_options, dir, descriptors, &handles, &raw);
  } else {
    s = rocksdb::DB::Open(db_options, dir, descriptors, &handles, &raw);
  }
  if (!s.ok()) return Error::unavailable("cannot open the event log in " + dir + ": " + s.ToString());

  auto impl = std::make_unique<Impl>();
  impl->db.reset(raw);
  impl->dir = dir;
  impl->options = std::move(options);
  for (std::size_t i = 0; i < handles.size(); ++i) impl->families[descriptors[i].name] = handles[i];

  // From here on the store owns the handles: an early return closes them properly.
  std::unique_ptr<EventStore> store(new EventStore(std::move(impl)));
  Impl& opened = *store->impl_;
  if (auto loaded = load_head(opened); !loaded) return std::move(loaded).error();
  if (!opened.options.read_only) {
    std::vector<rocksdb::ColumnFamilyHandle*> all;
    for (const auto& [name, handle] : opened.families) all.push_back(handle);
    opened.shredder = std::make_unique<Shredder>(
        *opened.db, std::move(all), std::vector{opened.cf(SideStore::keys), opened.cf(SideStore::credentials)},
        std::max(opened.options.shred_after, std::chrono::seconds(1)));
    opened.appender = std::thread([&opened] { opened.run(); });
  }
  return store;
}

void EventStore::add_index_writer(IndexWriter* writer) { impl_->index_writers.push_back(writer); }
void EventStore::subscribe(Subscriber* subscriber) { impl_->subscribers.push_back(subscriber); }

void EventStore::append_async(AppendRequest request, AppendCallback done) {
  if (request.events.empty()) {  // a barrier: no other process writes this log
    done(AppendResult{});
    return;
  }
  {
    std::lock_guard lock(impl_->queue_mutex);
    if (impl_->stopping || impl_->options.read_only) {
      done(Error::unavailable("The event log is closed or read-only; nothing was changed."));
      return;
    }
    if (!impl_->refused.empty()) {
      done(Error::unavailable("The event log is read-only: " + impl_->refused + "; nothing was changed."));
      return;
    }
    impl_->queue.push_back({std::move(request), std::move(done)});
  }
  impl_->queue_cv.notify_one();
}

Result<AppendResult> EventStore::append(AppendRequest request) {
  std::promise<Result<AppendResult>> promise;
  auto future = promise.get_future();
  append_async(std::move(request), [&promise](Result<AppendResult> r) { promise.set_value(std::move(r)); });
  return future.get();
}

Head EventStore::head() const {
  std::lock_guard lock(impl_->head_mutex);
  return impl_->head;
}

bool EventStore::read_only() const { return impl_->options.read_only; }

StoreStats EventStore::stats() const {
  std::lock_guard lock(impl_->head_mutex);
  return impl_->stats;
}

std::optional<Head> EventStore::head_marker() const {
  std::lock_guard lock(impl_->head_mutex);
  return impl_->head_marker;
}

void EventStore::refuse_writes(std::string reason) {
  std::lock_guard lock(impl_->queue_mutex);
  impl_->refused = std::move(reason);
}

std::string EventStore::writes_refused() const {
  std::lock_guard lock(impl_->queue_mutex);
  return impl_->refused;
}

void EventStore::stop_appender() {
  {
    std::lock_guard lock(impl_->queue_mutex);
    impl_->stopping = true;
  }
  impl_->queue_cv.notify_all();
  if (impl_->appender.joinable()) impl_->appender.join();
}

void EventStore::close() {
  if (!impl_) return;
  stop_appender();
  impl_->shredder.reset();  // a shred still due runs now, before the database closes
  if (impl_->db) {
    for (auto& [name, handle] : impl_->families) impl_->db->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    impl_->families.clear();
    impl_->db->Close().PermitUncheckedError();
    impl_->db.reset();
  }
}

Status EventStore::import_records(std::span<const std::string> raws) {
  if (impl_->options.read_only) return Error::unavailable("The event log is read-only; nothing was changed.");
  if (raws.empty()) return {};
  auto records = check_imported(raws, head());
  if (!records) return records.error();
  rocksdb::WriteBatch batch;
  for (const Record& r : *records) {
    batch.Put(impl_->cf("events"), encode_be64(r.seq), r.raw).PermitUncheckedError();
    batch.Put(impl_->cf("streams"), stream_index_key(r.stream, r.version), encode_be64(r.seq)).PermitUncheckedError();
  }
  const Head next{records->back().seq, records->back().hash};
  batch.Put(impl_->cf(SideStore::meta), kHeadMarkerKey, encode_head_marker(next)).PermitUncheckedError();
  rocksdb::WriteOptions sync;
  sync.sync = impl_->options.sync;
  if (const auto s = impl_->db->Write(sync, &batch); !s.ok()) return storage_error(s);
  std::lock_guard lock(impl_->head_mutex);
  impl_->head = next;
  impl_->head_marker = next;
  impl_->last_at = std::max(impl_->last_at, records->back().at);
  return {};
}

}  // namespace tl
