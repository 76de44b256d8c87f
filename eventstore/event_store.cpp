#include "eventstore/event_store.hpp"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "eventstore/codec.hpp"
#include "eventstore/shredder.hpp"
#include "eventstore/time_format.hpp"

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

namespace {

constexpr const char* kCoreFamilies[] = {"events", "streams", "keys", "credentials", "meta"};

// meta: the head as the appender last wrote it (be64 seq + hex hash), in the batch of its records.
constexpr std::string_view kHeadMarkerKey = "head";

std::string encode_head_marker(const Head& head) { return encode_be64(head.seq) + head.hash; }

std::optional<Head> decode_head_marker(std::string_view bytes) {
  if (bytes.size() != 8 + kGenesisHash.size()) return std::nullopt;
  return Head{decode_be64(bytes.substr(0, 8)), std::string(bytes.substr(8))};
}

Error storage_error(const rocksdb::Status& s) {
  return Error::unavailable("The event log cannot be read or written (" + s.ToString() +
                            "); nothing was changed.");
}

struct Pending {
  AppendRequest request;
  AppendCallback done;
};

}  // namespace

struct EventStore::Impl {
  std::unique_ptr<rocksdb::DB> db;
  std::string dir;
  bool needs_resume = false;  // the last write failed: leave RocksDB's error state before the next
  std::map<std::string, rocksdb::ColumnFamilyHandle*> families;
  StoreOptions options;

  std::vector<IndexWriter*> index_writers;
  std::vector<Subscriber*> subscribers;

  mutable std::mutex head_mutex;
  Head head;
  std::optional<Head> head_marker;  // guarded by head_mutex
  StoreStats stats;  // guarded by head_mutex
  Timestamp last_at{};

  std::mutex queue_mutex;
  std::string refused;  // guarded by queue_mutex: why writes are refused (refuse_writes)
  std::condition_variable queue_cv;
  std::vector<Pending> queue;
  bool stopping = false;
  std::thread appender;
  std::unique_ptr<Shredder> shredder;  // writable stores only

  rocksdb::ColumnFamilyHandle* cf(const std::string& name) const { return families.at(name); }

  // The appender's memory of stream versions (see StoreOptions::stream_version_cache).
  std::unordered_map<std::string, std::uint64_t> version_cache;

  std::uint64_t stored_stream_version(const std::string& stream) const {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, cf("streams")));
    return stored_stream_version(stream, *it);
  }

  static std::uint64_t stored_stream_version(const std::string& stream, rocksdb::Iterator& it_ref) {
    rocksdb::Iterator* it = &it_ref;
    const std::string probe = stream_index_key(stream, UINT64_MAX);
    it->SeekForPrev(probe);
    if (!it->Valid()) return kNoStream;
    const auto key = it->key().ToStringView();
    if (key.size() != stream.size() + 9 || key.substr(0, stream.size()) != stream || key[stream.size()] != '\0') {
      return kNoStream;
    }
    return decode_be64(key.substr(stream.size() + 1));
  }

  void record_stats(bool ok, std::size_t events, std::chrono::steady_clock::duration took,
                    const std::vector<std::optional<Result<AppendResult>>>& outcomes) {
    const double seconds = std::chrono::duration<double>(took).count();
    std::lock_guard lock(head_mutex);
    for (const auto& outcome : outcomes) {
      if (!outcome->ok() && outcome->error().code == ErrorCode::version_conflict) ++stats.conflicts;
    }
    if (!ok) {
      ++stats.failed_batches;
      return;
    }
    ++stats.batches;
    stats.events += events;
    stats.write_seconds += seconds;
    std::size_t size_bucket = 0;
    while (size_bucket + 1 < stats.batch_size_buckets.size() && events > (std::size_t{1} << size_bucket)) ++size_bucket;
    ++stats.batch_size_buckets[size_bucket];
    std::size_t latency_bucket = 0;
    while (latency_bucket + 1 < stats.write_latency_buckets.size() &&
           seconds * 1000.0 > 0.5 * static_cast<double>(1u << latency_bucket)) {
      ++latency_bucket;
    }
    ++stats.write_latency_buckets[latency_bucket];
  }

  void run() {
    std::vector<Pending> batch;
    for (;;) {
      {
        std::unique_lock lock(queue_mutex);
        queue_cv.wait(lock, [&] { return !queue.empty() || stopping; });
        if (queue.empty()) return;  // stopping, and nothing left to write
        batch.swap(queue);
      }
      commit(batch);
      batch.clear();
    }
  }

  void remember_versions(const std::unordered_map<std::string, std::uint64_t>& versions) {
    const std::size_t capacity = options.stream_version_cache;
    if (capacity == 0) return;
    for (const auto& [stream, version] : versions) {
      if (version_cache.size() >= capacity) version_cache.clear();  // cheaper than an LRU, good enough
      version_cache.insert_or_assign(stream, version);
    }
  }

  // Chains and writes every waiting request as one synced batch. A request whose expected
  // version does not match is refused alone; a failed write refuses the whole batch.
  RecordDecoder round_trip;  // the appender's, for check_round_trip

  void commit(std::vector<Pending>& pending) {
    rocksdb::WriteBatch batch;
    std::vector<Record> records;
    std::vector<std::optional<Result<AppendResult>>> outcomes(pending.size());
    std::unordered_map<std::string, std::uint64_t> versions;
    std::unique_ptr<rocksdb::Iterator> stream_it;
    bool shreds = false;  // the batch deletes a secret (SideWrite without a value)
    Head next = [&] {
      std::lock_guard lock(head_mutex);
      return head;
    }();
    // Time never runs backwards along the log, so a time range is a seq range.
    const Timestamp at = std::max(now_ms(), last_at);

    for (std::size_t i = 0; i < pending.size(); ++i) {
      AppendRequest& req = pending[i].request;
      if (req.events.empty()) {
        outcomes[i] = Error::internal("append without events");
        continue;
      }
      // The version of a stream as of this point of the batch (earlier requests included).
      auto version_of = [&](const std::string& stream) -> std::uint64_t& {
        auto [pos, fresh] = versions.try_emplace(stream, 0);
        if (fresh) {
          if (auto cached = version_cache.find(stream); cached != version_cache.end()) {
            pos->second = cached->second;
          } else {
            // One iterator for the whole batch: creating one costs more than the seek.
            if (!stream_it) stream_it.reset(db->NewIterator({}, cf("streams")));
            pos->second = stored_stream_version(stream, *stream_it);
          }
        }
        return pos->second;
      };
      if (req.condition) {
        const std::uint64_t at_version = version_of(req.condition->stream);
        if (at_version != req.condition->version) {
          outcomes[i] = Error::version_conflict("The stream " + req.condition->stream + " is at version " +
                                                std::to_string(at_version) + ", not " +
                                                std::to_string(req.condition->version) + ".");
          continue;
        }
      }
      std::uint64_t& version = version_of(req.stream);
      if (req.expected_version != kAnyVersion && req.expected_version != version) {
        outcomes[i] = Error::version_conflict("The stream " + req.stream + " is at version " +
                                              std::to_string(version) + ", not " +
                                              std::to_string(req.expected_version) + ".");
        continue;
      }
      AppendResult result{next.seq + 1, 0, 0, at};
      // A request whose record would not read back is refused alone, with nothing of it kept.
      const Head before = next;
      const std::uint64_t version_before = version;
      const std::size_t records_before = records.size();
      batch.SetSavePoint();
      Status readable;
      for (Event& event : req.events) {
        Record r;
        r.seq = ++next.seq;
        r.at = at;
        r.stream = req.stream;
        r.version = ++version;
        r.actor = req.actor;
        r.source = req.source;
        if (is_token_event(event)) {
          r.token_id = req.stream;
          r.owner = req.owner;
        }
        r.event = std::move(event);
        r.prev_hash = next.hash;
        encode_record(r);
        if (readable = check_round_trip(r, round_trip); !readable) break;
        next.hash = r.hash;
        batch.Put(cf("events"), encode_be64(r.seq), r.raw);
        batch.Put(cf("streams"), stream_index_key(r.stream, r.version), encode_be64(r.seq));
        for (IndexWriter* w : index_writers) w->index(r, batch);
        records.push_back(std::move(r));
      }
      if (!readable) {
        batch.RollbackToSavePoint().PermitUncheckedError();
        next = before;
        version = version_before;
        records.resize(records_before);
        spdlog::error("append to {} refused: {}", req.stream, readable.error().message);
        outcomes[i] = Error::internal("The event could not be recorded: " + readable.error().message +
                                      "; nothing was changed.");
        continue;
      }
      batch.PopSavePoint().PermitUncheckedError();
      for (const SideWrite& side : req.side_writes) {
        if (side.value) {
          batch.Put(cf(side.column_family), side.key, *side.value);
        } else {
          batch.Delete(cf(side.column_family), side.key);
          shreds = true;
        }
      }
      result.last_seq = next.seq;
      result.next_expected_version = version;
      outcomes[i] = result;
    }

    // ---- Faults (issue 6): a full disk, and recovery after a failed write ----
    if (!records.empty() && options.min_free_bytes > 0) {
      struct statvfs fs {};
      if (::statvfs(dir.c_str(), &fs) == 0 &&
          static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize < options.min_free_bytes) {
        const std::uint64_t free_bytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
        spdlog::error("disk nearly full ({} bytes free, {} reserved): {} appends refused", free_bytes,
                      options.min_free_bytes, pending.size());
        for (auto& outcome : outcomes) {
          if (outcome->ok()) {
            // No figures: a caller has no use for the free space, an attacker would watch it
            // fill. The operator's log above has them.
            outcome = Error::unavailable("The server cannot write at the moment; nothing was changed. Try again later.");
          }
        }
        record_stats(false, records.size(), {}, outcomes);
        records.clear();
      }
    }
    if (!records.empty() && needs_resume) {
      // A failed write may leave RocksDB refusing every write until Resume() succeeds; the
      // Resume() right after the failure fails too while the cause (e.g. no space) remains.
      const rocksdb::Status resumed = db->Resume();
      if (resumed.ok()) {
        needs_resume = false;
        spdlog::info("event log writable again");
      }
    }
    // ------------------------------------------------------------------------------------
    if (!records.empty()) {
      // The head as written, beside the log: a cut of the newest records is seen at the next
      // open (see head_marker()).
      batch.Put(cf("meta"), kHeadMarkerKey, encode_head_marker(next));
      rocksdb::WriteOptions write_options;
      write_options.sync = options.sync;
      const auto started = std::chrono::steady_clock::now();
      const rocksdb::Status s = db->Write(write_options, &batch);
      record_stats(s.ok(), records.size(), std::chrono::steady_clock::now() - started, outcomes);
      if (!s.ok()) {
        spdlog::error("event log write failed, {} appends refused: {}", pending.size(), s.ToString());
        for (auto& outcome : outcomes) {
          if (outcome->ok()) outcome = storage_error(s);
        }
        // A failed write may leave RocksDB in a background-error state; try to leave it.
        needs_resume = !db->Resume().ok();
      } else {
        {
          std::lock_guard lock(head_mutex);
          head = next;
          head_marker = next;
        }
        last_at = at;
        remember_versions(versions);
        if (shreds && shredder) shredder->deleted();
        for (Subscriber* subscriber : subscribers) subscriber->on_committed(records);
      }
    }
    for (std::size_t i = 0; i < pending.size(); ++i) pending[i].done(std::move(*outcomes[i]));
  }
};

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
  // The head is the last record: its seq, hash and time.
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
  if (auto got = opened.db->Get({}, opened.cf("meta"), kHeadMarkerKey, &marker); got.ok()) {
    opened.head_marker = decode_head_marker(marker);
    if (!opened.head_marker) return Error::internal("the head marker in meta is malformed; run tokenledger-admin verify");
  } else if (!got.IsNotFound()) {
    return storage_error(got);
  }

  if (!opened.options.read_only) {
    std::vector<rocksdb::ColumnFamilyHandle*> all;
    for (const auto& [name, handle] : opened.families) all.push_back(handle);
    opened.shredder = std::make_unique<Shredder>(*opened.db, std::move(all),
                                                 std::vector{opened.cf("keys"), opened.cf("credentials")},
                                                 std::max(opened.options.shred_after, std::chrono::seconds(1)));
    opened.appender = std::thread([&opened] { opened.run(); });
  }
  return store;
}

void EventStore::add_index_writer(IndexWriter* writer) { impl_->index_writers.push_back(writer); }
void EventStore::subscribe(Subscriber* subscriber) { impl_->subscribers.push_back(subscriber); }

void EventStore::append_async(AppendRequest request, AppendCallback done) {
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

StoreStats EventStore::stats() const {
  std::lock_guard lock(impl_->head_mutex);
  return impl_->stats;
}

std::uint64_t EventStore::stream_version(const std::string& stream) const {
  return impl_->stored_stream_version(stream);
}

Result<std::optional<std::string>> EventStore::read_raw(std::uint64_t seq) const {
  std::string value;
  const auto s = impl_->db->Get({}, impl_->cf("events"), encode_be64(seq), &value);
  if (s.IsNotFound()) return std::optional<std::string>{};
  if (!s.ok()) return storage_error(s);
  return std::optional<std::string>{std::move(value)};
}

Result<std::optional<Record>> EventStore::read(std::uint64_t seq) const {
  auto raw = read_raw(seq);
  if (!raw) return std::move(raw).error();
  if (!*raw) return std::optional<Record>{};
  auto record = decode_record(**raw);
  if (!record) return std::move(record).error();
  return std::optional<Record>{std::move(record).value()};
}

Status EventStore::read_range(std::uint64_t from, std::uint64_t to, const std::function<bool(const Record&)>& visit,
                              RecordFields fields) const {
  const std::string lower = encode_be64(from);
  const std::string upper = encode_be64(to == UINT64_MAX ? to : to + 1);
  rocksdb::ReadOptions read_options;
  // Long scans (rebuild, start-up fold) read ahead in big steps; the bound stops the iterator
  // at `to` without reading the block after it.
  read_options.readahead_size = 2 << 20;
  read_options.adaptive_readahead = true;
  rocksdb::Slice upper_slice(upper);
  if (to != UINT64_MAX) read_options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(read_options, impl_->cf("events")));
  // One record and one decoder for the whole range: decoding into it reuses their buffers.
  Record record;
  RecordDecoder decoder;
  for (it->Seek(lower); it->Valid(); it->Next()) {
    if (decode_be64(it->key().ToStringView()) > to) break;
    if (auto decoded = decoder.decode(it->value().ToStringView(), record, fields); !decoded) return decoded;
    if (!visit(record)) break;
  }
  if (!it->status().ok()) return storage_error(it->status());
  return {};
}

Status EventStore::read_stream(const std::string& stream,
                               const std::function<bool(const Record&)>& visit) const {
  std::string prefix = stream;
  prefix.push_back('\0');
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator({}, impl_->cf("streams")));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto record = read(decode_be64(it->value().ToStringView()));
    if (!record) return std::move(record).error();
    if (!*record) return Error::internal("stream index names a missing record");
    if (!visit(**record)) break;
  }
  if (!it->status().ok()) return storage_error(it->status());
  return {};
}

std::optional<Head> EventStore::head_marker() const {
  std::lock_guard lock(impl_->head_mutex);
  return impl_->head_marker;
}

Status EventStore::put_side(const std::string& column_family, const std::string& key, const std::string& value) {
  rocksdb::WriteOptions sync;
  sync.sync = impl_->options.sync;
  const auto s = impl_->db->Put(sync, impl_->cf(column_family), key, value);
  if (!s.ok()) return storage_error(s);
  return {};
}

Result<std::optional<std::string>> EventStore::get_side(const std::string& column_family,
                                                        const std::string& key) const {
  std::string value;
  const auto s = impl_->db->Get({}, impl_->cf(column_family), key, &value);
  if (s.IsNotFound()) return std::optional<std::string>{};
  if (!s.ok()) return storage_error(s);
  return std::optional<std::string>{std::move(value)};
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

rocksdb::DB& EventStore::db() const { return *impl_->db; }

rocksdb::ColumnFamilyHandle* EventStore::column_family(const std::string& name) const { return impl_->cf(name); }

}  // namespace tl
