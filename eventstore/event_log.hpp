// What the rest of the program needs of an event log, and nothing about how it is stored: one
// global gap-free sequence of records (seq from 1), streams with versions and optimistic
// concurrency, a SHA-256 hash chain, atomic appends of events with side writes, reads by seq and
// by stream, subscribers told of every committed batch, and the chain check.
// eventstore/event_store.hpp is the embedded implementation on RocksDB (the default).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.hpp"
#include "eventstore/codec.hpp"
#include "eventstore/record.hpp"
#include "eventstore/state_store.hpp"

namespace tl {

inline constexpr std::uint64_t kAnyVersion = UINT64_MAX;
inline constexpr std::uint64_t kNoStream = 0;

// The mutable stores beside the log. Each is stored under its name (side_store_name), which
// is part of the disk format: keys (token id -> wrapped data key), credentials (username ->
// password hash), meta (the head marker, signed checkpoints, the database id, ...).
enum class SideStore { keys, credentials, meta };

// "keys", "credentials", "meta".
std::string_view side_store_name(SideStore store);

// A write to a mutable store that must land atomically with the events (a token's data key,
// a user's password hash). An empty optional deletes the key.
struct SideWrite {
  SideStore store = SideStore::keys;
  std::string key;
  std::optional<std::string> value;
};

// Another stream that must stand at `version` for an append to land, checked by the appender
// atomically with the append (kNoStream: the stream must not exist).
struct StreamCondition {
  std::string stream;
  std::uint64_t version = kNoStream;
};

// An append without events is a barrier: nothing is written, and it completes (AppendResult all
// zero) once this process has folded every record the log held when the barrier was taken up,
// including those other processes appended (a PostgreSQL log; the embedded log has no other
// writer and completes it at once). A decision made from the projections after it sees every
// write acknowledged anywhere before it began (CommandRun, before it reports a refusal).
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
  virtual void index(const Record& record, IndexBatch& batch) = 0;
};

// Told of every committed batch, in order, on the appender thread, before any waiter of
// that batch is completed.
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual void on_committed(std::span<const Record> records) = 0;
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
  // "stream_index", "audit_index", "owner_snapshot", "checkpoint", "projection", "head_marker",
  // "witness".
  std::string kind;
  std::string problem;
};

// A check run on each record of a verify walk, after the chain's own checks: "" when the record
// is fine, else what is wrong. `kind` names what it checks (see VerifyReport::kind).
struct RecordCheck {
  std::string kind;
  std::function<std::string(const Record&)> check;
};

// Every function may be called from any thread unless it says otherwise. Errors are values:
// unavailable when the storage cannot be read or written (nothing was changed), internal when a
// stored record does not decode, version_conflict for an append whose expectation failed.
class EventLog {
 public:
  virtual ~EventLog() = default;

  // Registration happens before the first append.
  virtual void add_index_writer(IndexWriter* writer) = 0;
  virtual void subscribe(Subscriber* subscriber) = 0;

  // Queues the append; `done` runs on the appender thread once the batch is durable (or failed).
  virtual void append_async(AppendRequest request, AppendCallback done) = 0;
  // Blocks until durable.
  virtual Result<AppendResult> append(AppendRequest request) = 0;

  virtual Head head() const = 0;
  // True when opened read-only: appends and state writes fail (unavailable).
  virtual bool read_only() const = 0;
  virtual StoreStats stats() const = 0;
  // The stream's version (its last record's), kNoStream when it has none.
  virtual std::uint64_t stream_version(const std::string& stream) const = 0;

  // The record at `seq`, nullopt when there is none.
  virtual Result<std::optional<Record>> read(std::uint64_t seq) const = 0;
  // The record's stored bytes (Record::raw), nullopt when there is none.
  virtual Result<std::optional<std::string>> read_raw(std::uint64_t seq) const = 0;
  // Calls `visit` for each record with from <= seq <= to, in order, until it returns false.
  // The record passed is reused between calls: copy what must outlive the call. `fields`:
  // RecordFields::fold for the projections' fold (see codec.hpp).
  virtual Status read_range(std::uint64_t from, std::uint64_t to, const std::function<bool(const Record&)>& visit,
                            RecordFields fields = RecordFields::all) const = 0;
  // read_range with the records read and decoded ahead by `threads` workers, each taking every
  // n-th chunk of seqs; `visit` still runs on the calling thread, once per record, in seq order.
  // For long folds, where decoding costs more than the visitor. threads <= 1: read_range.
  virtual Status read_range_parallel(std::uint64_t from, std::uint64_t to,
                                     const std::function<bool(const Record&)>& visit, RecordFields fields,
                                     unsigned threads) const = 0;
  // The records at `seqs` (ascending), in that order, until `visit` returns false; the record
  // passed is reused between calls. Errors: internal when one of them does not exist.
  virtual Status read_seqs(std::span<const std::uint64_t> seqs,
                           const std::function<bool(const Record&)>& visit) const = 0;
  // The stream's records in version order.
  virtual Status read_stream(const std::string& stream, const std::function<bool(const Record&)>& visit) const = 0;
  // The stream index as stored, for the integrity check: key stream \0 be64(version)
  // (stream_index_key), value be64(seq), in key order, until `visit` returns false.
  virtual Status scan_stream_index(const std::function<bool(std::string_view, std::string_view)>& visit) const = 0;

  virtual Result<std::optional<std::string>> get_side(SideStore store, std::string_view key) const = 0;
  // A synced write of one key outside the log (e.g. meta); refused on a read-only log.
  virtual Status put_side(SideStore store, std::string_view key, std::string_view value) = 0;
  // Calls `visit(key, value)` for every key of the store starting with `prefix`, in order, until
  // it returns false.
  virtual Status scan_side(SideStore store, const std::function<bool(std::string_view, std::string_view)>& visit,
                           std::string_view prefix = {}) const = 0;
  // True when `key` exists in the store.
  virtual Result<bool> side_has(SideStore store, std::string_view key) const = 0;
  // The greatest key of the store that starts with `prefix` (and is at most 16 bytes longer), or
  // nullopt (one seek).
  virtual Result<std::optional<std::string>> last_key_with_prefix(SideStore store, std::string_view prefix) const = 0;

  // The projections' named families, kept with the log so that index entries land atomically
  // with the records (see state_store.hpp).
  virtual StateStore& state() = 0;
  virtual const StateStore& state() const = 0;

  // The head the appender records in meta with every batch (as found at open, then as written);
  // nullopt for a log written before the marker existed. At open, a marker past the last record
  // means records were cut from the end; one at the last record with another hash, a rewrite.
  virtual std::optional<Head> head_marker() const = 0;

  // Walks the whole chain: seq continuity, prev_hash links, every record's hash and its stream
  // index entry.
  virtual VerifyReport verify(const std::function<void(std::uint64_t)>& progress = {}) const = 0;
  // The same checks from record `from` on, trusting `prev_hash` as the hash of the record before
  // it (e.g. taken from a record whose hash a signed checkpoint vouches for). `events` counts the
  // records checked. Used by the server's start-up check (--verify-on-start tail).
  // `also` runs on every record that passed (e.g. the audit index's entries for it). `pause`, when
  // set, is called every 1024 records and may sleep (the background scrub's throttle) or return
  // false to stop the walk early (the report then covers what was walked).
  virtual VerifyReport verify_from(std::uint64_t from, const std::string& prev_hash,
                                   const std::function<void(std::uint64_t)>& progress = {},
                                   const RecordCheck& also = {}, const std::function<bool()>& pause = {}) const = 0;

  // Migration (tokenledger-admin migrate): appends records exactly as another log stores them
  // (Record::raw), after checking each (its hash, and that it follows the head: seq head + 1,
  // prev_hash the head's hash), with their stream index and the new head, in one atomic durable
  // write. No index writer or subscriber is told: the projections are rebuilt afterwards. Call it
  // while nothing else appends. Errors: invalid_field naming the first record that does not check
  // or follow (nothing written); unavailable as appends.
  virtual Status import_records(std::span<const std::string> raws) = 0;

  // From now on every append is refused (unavailable, nothing written) with `reason`: the
  // integrity check found damage, and nothing may be chained onto it. Reads go on.
  virtual void refuse_writes(std::string reason) = 0;
  // The reason given to refuse_writes(), or "" while writes are accepted.
  virtual std::string writes_refused() const = 0;

  // True when this process runs the jobs that must run once over a log that several processes
  // share: signing checkpoints (and posting them to witnesses), the scrub, expiry notices, saving
  // the projections' checkpoint. The embedded log has one process: always. The PostgreSQL log:
  // while this process holds its advisory lock (taken over within a second or so when the holder's
  // connection ends).
  virtual bool runs_singletons() const { return true; }
  // A log that other processes append to too: how far this process's folded head is behind the
  // database's (events, and seconds since it first fell behind), and seconds since the database
  // last answered (0 while it answers); nullopt for the embedded log.
  struct FollowLag {
    std::uint64_t events = 0;
    double seconds = 0;
    double since_contact_seconds = 0;
  };
  virtual std::optional<FollowLag> follow_lag() const { return std::nullopt; }
  // A log that other processes append to: from now on their records are folded in as they land
  // (subscribers told on the appender's thread). Call it once every subscriber is registered and
  // has loaded what it folds from (ReadModel::load): until then the head this process reports
  // stands still, except for its own appends, which fold the others' records before them. The
  // embedded log has no other writer: nothing to do.
  virtual void follow_others() {}
  // True when other processes append to this log too (a writable PostgreSQL log): a request that
  // writes should first wait for a barrier (AppendRequest), so that it is judged on their writes.
  virtual bool has_other_writers() const { return false; }

  // Finishes every queued append, then stops the appender; reads still work. Idempotent.
  virtual void stop_appender() = 0;
  // stop_appender(), then closes the log. Idempotent.
  virtual void close() = 0;
};

std::string encode_be64(std::uint64_t v);
std::uint64_t decode_be64(std::string_view bytes);
// The key of the stream index: stream \0 be64(version).
std::string stream_index_key(std::string_view stream, std::uint64_t version);

}  // namespace tl
