// The embedded event log on RocksDB (EventLog), and the projections' state store beside it in
// the same database (StateStore). One appender thread takes every waiting append, chains it,
// writes everything as one synced WriteBatch, tells the index writers and subscribers, and only
// then completes the waiters: nothing is acknowledged before it is durable, and a reader that
// was acknowledged reads its own write.
//
// Column families: events (be64 seq -> record), streams (stream \0 be64 version -> be64 seq),
// keys, credentials and meta (SideStore), and any the projections ask for (StateStore families).
// No RocksDB type appears here: RocksDB is reached only from eventstore/*.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.hpp"
#include "eventstore/event_log.hpp"
#include "eventstore/state_store.hpp"

namespace tl {

// How the embedded log is opened (EventStore::open).
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

class EventStore final : public EventLog, public StateStore {
 public:
  // Opens (creating when missing, unless read-only) the database in `dir`. Errors: unavailable
  // when RocksDB cannot open it; internal when a writable open finds a last record it cannot
  // read or a malformed head marker.
  static Result<std::unique_ptr<EventStore>> open(const std::string& dir, StoreOptions options);
  ~EventStore() override;
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // ---- EventLog ----
  void add_index_writer(IndexWriter* writer) override;
  void subscribe(Subscriber* subscriber) override;
  void append_async(AppendRequest request, AppendCallback done) override;
  Result<AppendResult> append(AppendRequest request) override;
  Head head() const override;
  bool read_only() const override;
  StoreStats stats() const override;
  std::uint64_t stream_version(const std::string& stream) const override;
  Result<std::optional<Record>> read(std::uint64_t seq) const override;
  Result<std::optional<std::string>> read_raw(std::uint64_t seq) const override;
  Status read_range(std::uint64_t from, std::uint64_t to, const std::function<bool(const Record&)>& visit,
                    RecordFields fields = RecordFields::all) const override;
  Status read_range_parallel(std::uint64_t from, std::uint64_t to, const std::function<bool(const Record&)>& visit,
                             RecordFields fields, unsigned threads) const override;
  Status read_seqs(std::span<const std::uint64_t> seqs, const std::function<bool(const Record&)>& visit) const override;
  Status read_stream(const std::string& stream, const std::function<bool(const Record&)>& visit) const override;
  Status scan_stream_index(const std::function<bool(std::string_view, std::string_view)>& visit) const override;
  Result<std::optional<std::string>> get_side(SideStore store, std::string_view key) const override;
  Status put_side(SideStore store, std::string_view key, std::string_view value) override;
  Status scan_side(SideStore store, const std::function<bool(std::string_view, std::string_view)>& visit,
                   std::string_view prefix = {}) const override;
  Result<bool> side_has(SideStore store, std::string_view key) const override;
  Result<std::optional<std::string>> last_key_with_prefix(SideStore store, std::string_view prefix) const override;
  StateStore& state() override { return *this; }
  const StateStore& state() const override { return *this; }
  std::optional<Head> head_marker() const override;
  Status import_records(std::span<const std::string> raws) override;
  VerifyReport verify(const std::function<void(std::uint64_t)>& progress = {}) const override;
  VerifyReport verify_from(std::uint64_t from, const std::string& prev_hash,
                           const std::function<void(std::uint64_t)>& progress = {}, const RecordCheck& also = {},
                           const std::function<bool()>& pause = {}) const override;
  void refuse_writes(std::string reason) override;
  std::string writes_refused() const override;
  void stop_appender() override;
  void close() override;

  // ---- StateStore (the families named in StoreOptions::extra_column_families) ----
  Result<std::optional<std::string>> get(std::string_view family, std::string_view key) const override;
  Result<bool> has(std::string_view family, std::string_view key) const override;
  Status scan(std::string_view family, const StateScan& how,
              const std::function<bool(std::string_view, std::string_view)>& visit) const override;
  Result<std::optional<std::string>> last_key_with_prefix(std::string_view family,
                                                          std::string_view prefix) const override;
  Result<std::optional<StateEntry>> last_entry_at_or_before(std::string_view family, std::string_view prefix,
                                                            std::string_view bound) const override;
  std::unique_ptr<StateBatch> new_batch() const override;
  Status write(StateBatch& batch) override;
  Result<bool> replace_existing(std::string_view family, std::string_view key, std::string_view value) override;
  Status erase_range(std::string_view family, std::string_view from, std::string_view to) override;
  void flush(std::string_view family) override;

  // ---- Damage on purpose (tests and tamper tools only) ----
  // Puts (or, with nullopt, deletes) `key` of the column family `family` ("events", "streams",
  // "meta", a projection family, ...) directly, synced, past the appender and the hash chain:
  // for tests that check the integrity checks catch such damage. Never used by the server.
  Status raw_write(std::string_view family, std::string_view key, std::optional<std::string_view> value);

  struct Impl;

 private:
  friend class Backups;  // backs up the database itself
  explicit EventStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tl
