// EventStore's insides, shared by the files that implement it (event_store.cpp: open and close;
// appender.cpp: the group commit; reads.cpp; side_stores.cpp; verify.cpp; parallel_read.cpp).
// Private to eventstore/: the only header that names RocksDB types.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "eventstore/codec.hpp"
#include "eventstore/event_store.hpp"
#include "eventstore/shredder.hpp"

namespace tl {

// meta: the head as the appender last wrote it (be64 seq + hex hash), in the batch of its records.
inline constexpr std::string_view kHeadMarkerKey = "head";

std::string encode_head_marker(const Head& head);
std::optional<Head> decode_head_marker(std::string_view bytes);

// The caller's error for a failed RocksDB operation on the log.
Error storage_error(const rocksdb::Status& s);

// A StateBatch (and the appender's IndexBatch) over a RocksDB WriteBatch.
class RocksBatch final : public StateBatch {
 public:
  RocksBatch(const EventStore::Impl& impl, rocksdb::WriteBatch& batch) : impl_(impl), batch_(batch) {}
  void put(std::string_view family, std::string_view key, std::string_view value) override;
  void erase(std::string_view family, std::string_view key) override;
  void clear() override { batch_.Clear(); }
  rocksdb::WriteBatch& batch() { return batch_; }

 private:
  const EventStore::Impl& impl_;
  rocksdb::WriteBatch& batch_;
};

struct EventStore::Impl {
  struct Pending {
    AppendRequest request;
    AppendCallback done;
  };

  // What commit() makes of a batch of pending appends before writing it.
  struct Prepared {
    rocksdb::WriteBatch batch;
    std::vector<Record> records;
    std::vector<std::optional<Result<AppendResult>>> outcomes;
    std::unordered_map<std::string, std::uint64_t> versions;  // each touched stream's version after it
    std::unique_ptr<rocksdb::Iterator> stream_it;             // one for the whole batch
    Head next;
    Timestamp at{};
    bool shreds = false;  // the batch deletes a secret (SideWrite without a value)
  };

  std::unique_ptr<rocksdb::DB> db;
  std::string dir;
  bool needs_resume = false;  // the last write failed: leave RocksDB's error state before the next
  std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>> families;
  StoreOptions options;

  std::vector<IndexWriter*> index_writers;
  std::vector<Subscriber*> subscribers;

  mutable std::mutex head_mutex;
  Head head;
  std::optional<Head> head_marker;  // guarded by head_mutex
  StoreStats stats;                 // guarded by head_mutex
  Timestamp last_at{};

  std::mutex queue_mutex;
  std::string refused;  // guarded by queue_mutex: why writes are refused (refuse_writes)
  std::condition_variable queue_cv;
  std::vector<Pending> queue;
  bool stopping = false;
  std::thread appender;
  std::unique_ptr<Shredder> shredder;  // writable stores only

  // The appender's memory of stream versions (see StoreOptions::stream_version_cache).
  std::unordered_map<std::string, std::uint64_t> version_cache;
  RecordDecoder round_trip;  // the appender's, for check_round_trip

  // The handle of a column family the store was opened with; another name is a programming error.
  rocksdb::ColumnFamilyHandle* cf(std::string_view name) const;
  rocksdb::ColumnFamilyHandle* cf(SideStore store) const { return cf(side_store_name(store)); }

  std::uint64_t stored_stream_version(const std::string& stream) const;
  static std::uint64_t stored_stream_version(const std::string& stream, rocksdb::Iterator& it);

  // ---- the appender (appender.cpp) ----
  void run();
  void commit(std::vector<Pending>& pending);
  void prepare(Prepared& p, AppendRequest& request, std::optional<Result<AppendResult>>& outcome);
  Status chain_events(Prepared& p, AppendRequest& request, std::uint64_t& version);
  bool refuse_when_disk_full(Prepared& p, std::size_t pending);
  // The free bytes of the disk holding the log when below StoreOptions::min_free_bytes, else
  // nullopt (also when the check is off or the disk cannot be asked).
  std::optional<std::uint64_t> disk_nearly_full() const;
  void resume_after_failure();
  void write_and_publish(Prepared& p, std::size_t pending);
  void record_stats(bool ok, std::size_t events, std::chrono::steady_clock::duration took,
                    const std::vector<std::optional<Result<AppendResult>>>& outcomes);
  void remember_versions(const std::unordered_map<std::string, std::uint64_t>& versions);
};

}  // namespace tl
