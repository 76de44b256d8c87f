// The RocksDB event log: one global gap-free sequence, streams with versions and optimistic
// concurrency, a SHA-256 hash chain, and group commit. One appender thread takes every waiting
// append, chains it, writes everything as one synced WriteBatch, tells the index writers and
// subscribers, and only then completes the waiters: nothing is acknowledged before it is
// durable, and a reader that was acknowledged reads its own write.
//
// Column families: events (be64 seq -> record), streams (stream \0 be64 version -> be64 seq),
// keys (token id -> wrapped data key), credentials (username -> password hash), meta, and any
// the projections ask for.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "domain/result.hpp"
#include "eventstore/codec.hpp"
#include "eventstore/record.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace tl {

inline constexpr std::uint64_t kAnyVersion = UINT64_MAX;
inline constexpr std::uint64_t kNoStream = 0;

// A write to a mutable store that must land atomically with the events (a token's data key,
// a user's password hash). An empty optional deletes the key.
struct SideWrite {
  std::string column_family;  // "keys" or "credentials"
  std::string key;
  std::optional<std::string> value;
};

// Another stream that must stand at `version` for an append to land, checked by the appender
// atomically with the append (kNoStream: the stream must not exist).
struct StreamCondition {
  std::string stream;
  std::uint64_t version = kNoStream;
};

struct AppendRequest {
  std::string stream;
  std::uint64_t expected_version = kAnyVersion;
  std::vector<Event> events;
  Actor actor;
  Source source;
  std::string owner;  // token events: the token's owner
  std::vector<SideWrite> side_writes;
  // A token's creation names its owner's user stream at the version it was checked at, so that
  // no creation lands after the owner was deleted, disabled or left api-tokens. A mismatch fails
  // the append alone with version_conflict; nothing of it is written.
  std::optional<StreamCondition> condition;
};

struct AppendResult {
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  std::uint64_t next_expected_version = 0;  // the stream's version after this append
  Timestamp at{};
};

using AppendCallback = std::function<void(Result<AppendResult>)>;

struct Head {
  std::uint64_t seq = 0;
  std::string hash = kGenesisHash;
};

// Adds index entries to the same batch as the records, so an index can never be behind or
// ahead of the log.
class IndexWriter {
 public:
  virtual ~IndexWriter() = default;
  virtual void index(const Record& record, rocksdb::WriteBatch& batch) = 0;
};

// Told of every committed batch, in order, on the appender thread, before any waiter of
// that batch is completed.
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual void on_committed(std::span<const Record> records) = 0;
};

struct StoreOptions {
  std::vector<std::string> extra_column_families;
  bool read_only = false;
  bool sync = true;  // off only in benchmarks that say so
  // Refuse appends (unavailable, nothing written) while the file system holding the log has less
  // free space than this, so RocksDB never meets ENOSPC in the middle of a WAL write. 0: no check.
  std::uint64_t min_free_bytes = 0;
  // Streams whose version the appender remembers (it is the only writer, so they stay exact),
  // sparing a RocksDB seek per fresh stream in each batch; cleared when full. 0: none.
  std::size_t stream_version_cache = 65536;
  // Bounded shredding (eventstore/shredder.hpp): within this time of a committed delete of a
  // "keys" or "credentials" entry, no file of the database holds the old value. At least 1 s.
  std::chrono::seconds shred_after{60};
};

// Counters of the appender since start, for /metrics.
struct StoreStats {
  std::uint64_t batches = 0;
  std::uint64_t events = 0;
  std::uint64_t failed_batches = 0;
  std::uint64_t conflicts = 0;
  double write_seconds = 0;  // time spent in synced writes
  // Batch sizes (events per batch) with upper bounds 1, 2, 4, … 512, and more.
  std::array<std::uint64_t, 11> batch_size_buckets{};
  // Synced write latency with upper bounds 0.5, 1, 2, 4, 8, 16, 32, 64 ms, and more.
  std::array<std::uint64_t, 9> write_latency_buckets{};
};

struct VerifyReport {
  bool ok = true;
  std::uint64_t events = 0;
  Head head;
  std::uint64_t first_bad_seq = 0;
  // What is wrong at first_bad_seq: "chain" (a record missing, altered or unlinked),
  // "stream_index", "audit_index", "checkpoint", "projection", "head_marker", "witness".
  std::string kind;
  std::string problem;
};

// A check run on each record of a verify walk, after the chain's own checks: "" when the record
// is fine, else what is wrong. `kind` names what it checks (see VerifyReport::kind).
struct RecordCheck {
  std::string kind;
  std::function<std::string(const Record&)> check;
};

class EventStore {
 public:
  static Result<std::unique_ptr<EventStore>> open(const std::string& dir, StoreOptions options);
  ~EventStore();
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Registration happens before the first append.
  void add_index_writer(IndexWriter* writer);
  void subscribe(Subscriber* subscriber);

  // Queues the append; `done` runs on the appender thread once the batch is durable (or failed).
  void append_async(AppendRequest request, AppendCallback done);
  // Blocks until durable.
  Result<AppendResult> append(AppendRequest request);

  Head head() const;
  StoreStats stats() const;
  std::uint64_t stream_version(const std::string& stream) const;

  Result<std::optional<Record>> read(std::uint64_t seq) const;
  Result<std::optional<std::string>> read_raw(std::uint64_t seq) const;
  // Calls `visit` for each record with from <= seq <= to, in order, until it returns false.
  // The record passed is reused between calls: copy what must outlive the call. `fields`:
  // RecordFields::fold for the projections' fold (see codec.hpp).
  Status read_range(std::uint64_t from, std::uint64_t to, const std::function<bool(const Record&)>& visit,
                    RecordFields fields = RecordFields::all) const;
  // read_range with the records read and decoded ahead by `threads` workers, each taking every
  // n-th chunk of seqs; `visit` still runs on the calling thread, once per record, in seq order.
  // For long folds, where decoding costs more than the visitor. threads <= 1: read_range.
  Status read_range_parallel(std::uint64_t from, std::uint64_t to, const std::function<bool(const Record&)>& visit,
                             RecordFields fields, unsigned threads) const;
  Status read_stream(const std::string& stream, const std::function<bool(const Record&)>& visit) const;

  Result<std::optional<std::string>> get_side(const std::string& column_family,
                                              const std::string& key) const;
  // A synced write of one key outside the log (e.g. "meta"); refused on a read-only store.
  Status put_side(const std::string& column_family, const std::string& key, const std::string& value);

  // The head the appender records in "meta" with every batch (as found at open, then as written);
  // nullopt for a log written before the marker existed. At open, a marker past the last record
  // means records were cut from the end; one at the last record with another hash, a rewrite.
  std::optional<Head> head_marker() const;

  // Walks the whole chain: seq continuity, prev_hash links and every record's hash.
  VerifyReport verify(const std::function<void(std::uint64_t)>& progress = {}) const;
  // The same checks from record `from` on, trusting `prev_hash` as the hash of the record before
  // it (e.g. taken from a record whose hash a signed checkpoint vouches for). `events` counts the
  // records checked. Used by the server's start-up check (--verify-on-start tail).
  // `also` runs on every record that passed (e.g. the audit index's entries for it). `pause`, when
  // set, is called every 1024 records and may sleep (the background scrub's throttle) or return
  // false to stop the walk early (the report then covers what was walked).
  VerifyReport verify_from(std::uint64_t from, const std::string& prev_hash,
                           const std::function<void(std::uint64_t)>& progress = {},
                           const RecordCheck& also = {}, const std::function<bool()>& pause = {}) const;

  // Calls `visit(key, value)` for every key of a column family in order, until it returns false.
  Status scan_side(const std::string& column_family,
                   const std::function<bool(std::string_view, std::string_view)>& visit) const;
  // True when `key` exists in the column family.
  Result<bool> side_has(const std::string& column_family, const std::string& key) const;
  // The greatest key of the column family that starts with `prefix`, or nullopt (one seek).
  Result<std::optional<std::string>> last_key_with_prefix(const std::string& column_family,
                                                          const std::string& prefix) const;

  // From now on every append is refused (unavailable, nothing written) with `reason`: the
  // integrity check found damage, and nothing may be chained onto it. Reads go on.
  void refuse_writes(std::string reason);
  // The reason given to refuse_writes(), or "" while writes are accepted.
  std::string writes_refused() const;

  // Finishes every queued append, then stops the appender; reads still work. Idempotent.
  void stop_appender();
  // stop_appender(), then closes the database. Idempotent.
  void close();

  rocksdb::DB& db() const;
  rocksdb::ColumnFamilyHandle* column_family(const std::string& name) const;

 private:
  struct Impl;
  explicit EventStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

std::string encode_be64(std::uint64_t v);
std::uint64_t decode_be64(std::string_view bytes);
// The key of the streams column family: stream \0 be64(version).
std::string stream_index_key(std::string_view stream, std::uint64_t version);

}  // namespace tl
