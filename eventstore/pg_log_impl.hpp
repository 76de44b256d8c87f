// PgLog, the PostgreSQL EventLog (pg_log.hpp), shared by the files that implement it:
// pg_log.cpp (open, reads), pg_state.cpp (side stores and state families), pg_appender.cpp (the
// group commit), pg_verify.cpp (the chain check). Private to eventstore/.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "eventstore/codec.hpp"
#include "eventstore/pg_connection.hpp"
#include "eventstore/pg_log.hpp"
#include "eventstore/state_store.hpp"

namespace tl {

// The schema this program writes (tl_schema.version).
inline constexpr int kPgSchemaVersion = 1;
// Rows fetched per query by the scans (keyset pages).
inline constexpr int kPgPage = 1000;

// Writes to tl_kv collected for one transaction; the last write of a key wins.
// The settings of every connection of the log, named `application_name` in pg_stat_activity:
// synchronous commit, no statement or lock timeout, read committed, keepalives.
std::vector<std::string> pg_session_settings(const std::string& application_name);

class PgKvBatch final : public StateBatch {
 public:
  void put(std::string_view family, std::string_view key, std::string_view value) override {
    ops_.insert_or_assign({std::string(family), std::string(key)}, std::optional<std::string>(value));
  }
  void erase(std::string_view family, std::string_view key) override {
    ops_.insert_or_assign({std::string(family), std::string(key)}, std::nullopt);
  }
  void clear() override { ops_.clear(); }
  bool empty() const { return ops_.empty(); }
  // Takes every write of `other` (later than this batch's), leaving it empty.
  void absorb(PgKvBatch& other) {
    for (auto& [at, value] : other.ops_) ops_.insert_or_assign(at, std::move(value));
    other.ops_.clear();
  }
  // Applies the writes on `conn`, inside the caller's transaction (or as one of its own).
  Status apply(PgConn& conn) const;

 private:
  std::map<std::pair<std::string, std::string>, std::optional<std::string>> ops_;
};

class PgLog final : public EventLog, public StateStore {
 public:
  explicit PgLog(PgLogOptions options);
  ~PgLog() override;
  // Connects, migrates (writable), reads and checks the head, starts the appender.
  Status start();

  // ---- EventLog ----
  void add_index_writer(IndexWriter* writer) override { index_writers_.push_back(writer); }
  void subscribe(Subscriber* subscriber) override { subscribers_.push_back(subscriber); }
  void follow_others() override;
  bool has_other_writers() const override { return !options_.read_only; }
  void append_async(AppendRequest request, AppendCallback done) override;
  Result<AppendResult> append(AppendRequest request) override;
  Head head() const override;
  bool read_only() const override { return options_.read_only; }
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
  bool runs_singletons() const override { return singletons_.load(); }
  std::optional<FollowLag> follow_lag() const override;
  void stop_appender() override;
  void close() override;

  // ---- StateStore (tl_kv, by family) ----
  Result<std::optional<std::string>> get(std::string_view family, std::string_view key) const override;
  Result<bool> has(std::string_view family, std::string_view key) const override;
  Status scan(std::string_view family, const StateScan& how,
              const std::function<bool(std::string_view, std::string_view)>& visit) const override;
  Result<std::optional<std::string>> last_key_with_prefix(std::string_view family,
                                                          std::string_view prefix) const override;
  Result<std::optional<StateEntry>> last_entry_at_or_before(std::string_view family, std::string_view prefix,
                                                            std::string_view bound) const override;
  std::unique_ptr<StateBatch> new_batch() const override { return std::make_unique<PgKvBatch>(); }
  Status write(StateBatch& batch) override;
  Result<bool> replace_existing(std::string_view family, std::string_view key, std::string_view value) override;
  Status erase_range(std::string_view family, std::string_view from, std::string_view to) override;
  void flush(std::string_view) override {}

 private:
  struct Pending {
    AppendRequest request;
    AppendCallback done;
  };
  // What one transaction of the appender holds.
  struct Prepared {
    std::vector<Record> records;
    std::vector<std::optional<Result<AppendResult>>> outcomes;
    std::unordered_map<std::string, std::uint64_t> versions;
    PgKvBatch kv;
    Head next;
    Timestamp at{};
    std::optional<Error> broken;  // a statement of the transaction failed: the whole batch is refused
  };

  // ---- the appender (pg_appender.cpp) ----
  void run();
  void commit(std::vector<Pending>& pending);
  // `appends`: false for a catch-up alone (commit() of no appends).
  Status begin_batch(Prepared& p, bool appends);
  Result<std::uint64_t> version_of(Prepared& p, const std::string& stream);
  void prepare(Prepared& p, AppendRequest& request, std::optional<Result<AppendResult>>& outcome);
  Status chain_events(Prepared& p, AppendRequest& request, std::uint64_t& version);
  Status write_batch(Prepared& p, const std::string& batch_key);
  Status finish(Prepared& p, const std::string& batch_key);
  struct WriterIdentity {
    int pid = 0;
    std::string backend_start;  // "" when unknown: then it is not ended, only waited for
  };
  Result<bool> batch_committed(const std::string& batch_key, const WriterIdentity& old);
  // A write committed synchronously after what came before (see finish()).
  Status replication_barrier();
  Status publish_others(std::uint64_t to_seq, const std::string& to_hash);
  void refuse_all(Prepared& p, const Error& error);
  // After COMMIT: the new head, the stream versions, the subscribers.
  void publish(Prepared& p);
  void record_stats(bool ok, std::size_t events, double seconds, const Prepared& p);
  Status ensure_writer();
  // ---- following the other processes' appends (pg_follower.cpp) ----
  void follow();
  // Connects the follower's connection, LISTENs and tries the advisory lock (see runs_singletons).
  void connect_follower();
  void try_singletons();

  Result<std::optional<std::string>> get_kv(std::string_view family, std::string_view key) const;
  Status scan_kv(std::string_view family, const StateScan& how,
                 const std::function<bool(std::string_view, std::string_view)>& visit) const;
  Result<std::optional<std::string>> last_kv_with_prefix(std::string_view family, std::string_view prefix) const;

  PgLogOptions options_;
  mutable PgPool pool_;
  std::unique_ptr<PgConn> writer_;  // the appender's
  WriterIdentity writer_identity_;  // writer_'s session on the server

  std::vector<IndexWriter*> index_writers_;
  std::vector<Subscriber*> subscribers_;

  mutable std::mutex head_mutex_;
  Head head_;
  std::optional<Head> head_marker_;  // guarded by head_mutex_
  StoreStats stats_;                 // guarded by head_mutex_
  Timestamp last_at_{};

  mutable std::mutex queue_mutex_;
  std::string refused_;  // guarded by queue_mutex_
  std::condition_variable queue_cv_;
  std::vector<Pending> queue_;
  bool stopping_ = false;
  std::thread appender_;
  // Set by the follower when the database's head is past this process's: the appender then
  // folds the records in between (commit() of no appends).
  bool catch_up_ = false;  // guarded by queue_mutex_
  std::thread follower_;
  std::unique_ptr<PgConn> follower_conn_;  // made by start(), then the follower's: LISTEN, advisory lock
  std::atomic<bool> singletons_{false};    // this process holds the advisory lock
  std::atomic<bool> following_{false};     // follow_others() was called
  mutable std::mutex lag_mutex_;
  std::uint64_t database_head_ = 0;                                                        // guarded by lag_mutex_
  std::optional<std::chrono::steady_clock::time_point> behind_since_;                      // guarded by lag_mutex_
  std::chrono::steady_clock::time_point last_contact_ = std::chrono::steady_clock::now();  // guarded by lag_mutex_

  std::unordered_map<std::string, std::uint64_t> version_cache_;  // exact while no other process appends
  RecordDecoder round_trip_;
};

}  // namespace tl
