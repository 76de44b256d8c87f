// The PostgreSQL log's open (schema, head) and its reads of records (pg_log.hpp).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>

#include "eventstore/imported_records.hpp"
#include "eventstore/pg_log_impl.hpp"

namespace tl {
namespace {

// Version 1 of the schema. bytea compares byte by byte, as RocksDB's default comparator does,
// so every key order (streams, tl_kv) is the embedded log's.
const char* const kSchemaV1[] = {
    "CREATE TABLE tl_events (seq bigint PRIMARY KEY, record bytea NOT NULL)",
    "CREATE TABLE tl_streams (stream bytea NOT NULL, version bigint NOT NULL, seq bigint NOT NULL, "
    "PRIMARY KEY (stream, version))",
    "CREATE INDEX tl_streams_seq ON tl_streams (seq)",
    "CREATE TABLE tl_kv (family text NOT NULL, key bytea NOT NULL, value bytea NOT NULL, PRIMARY KEY (family, key))",
    "CREATE TABLE tl_head (one boolean PRIMARY KEY DEFAULT true CHECK (one), seq bigint NOT NULL, "
    "hash text NOT NULL, at_ms bigint NOT NULL)",
    "INSERT INTO tl_head (seq, hash, at_ms) VALUES (0, repeat('0', 64), 0)",
    "CREATE TABLE tl_appends (key bytea PRIMARY KEY, first_seq bigint NOT NULL, last_seq bigint NOT NULL)",
};

// Any number of processes may open the same database at once: the first creates the schema,
// the others wait on this lock and find it made.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7626284725315317863)";

Status migrate(PgConn& conn) {
  if (auto r = conn.exec("BEGIN"); !r) return r.error();
  auto rollback = [&](Error e) -> Status {
    (void)conn.exec("ROLLBACK");
    return e;
  };
  for (const char* sql : {kMigrationLock, "CREATE TABLE IF NOT EXISTS tl_schema (version integer NOT NULL)"}) {
    if (auto r = conn.exec(sql); !r) return rollback(r.error());
  }
  auto found = conn.exec("SELECT version::bigint FROM tl_schema");
  if (!found) return rollback(found.error());
  const std::int64_t version = found->rows() == 0 ? 0 : found->int64(0, 0);
  if (version > kPgSchemaVersion) {
    return rollback(Error::internal("The PostgreSQL log has schema version " + std::to_string(version) +
                                    ", newer than this program's " + std::to_string(kPgSchemaVersion) +
                                    ": run the newer tokenledger."));
  }
  if (version < 1) {
    for (const char* sql : kSchemaV1) {
      if (auto r = conn.exec(sql); !r) return rollback(r.error());
    }
    if (auto r = conn.exec("INSERT INTO tl_schema VALUES (1)"); !r) return rollback(r.error());
    spdlog::info("PostgreSQL log: schema version {} created", kPgSchemaVersion);
  }
  if (auto r = conn.exec("COMMIT"); !r) return r.error();
  return {};
}

// The head row and the last record's seq, read in one statement (one snapshot: another process
// committing between two reads would look like a cut log).
Result<Head> read_head_row(PgConn& conn, Timestamp& at, std::uint64_t& last_seq) {
  auto r = conn.exec("SELECT seq, hash, at_ms, (SELECT coalesce(max(seq), 0) FROM tl_events) FROM tl_head");
  if (!r) return r.error();
  if (r->rows() != 1) return Error::internal("The PostgreSQL log has no head row (tl_head): run verify.");
  at = Timestamp{std::chrono::milliseconds(r->int64(0, 2))};
  last_seq = static_cast<std::uint64_t>(r->int64(0, 3));
  return Head{static_cast<std::uint64_t>(r->int64(0, 0)), std::string(r->bytes(0, 1))};
}

}  // namespace

std::vector<std::string> pg_session_settings(const std::string& application_name) {
  return {
      "SET synchronous_commit = on",
      "SET application_name = '" + application_name + "'",
      // A role's or database's timeouts must not cancel a COMMIT waiting for the standby (the
      // outcome would be unknown) nor a wait for the head row.
      "SET statement_timeout = 0",
      "SET lock_timeout = 0",
      // The head is read, locked and written in one transaction: another isolation level would
      // refuse a second process's append instead of waiting for the first.
      "SET default_transaction_isolation = 'read committed'",
      // A process gone mid-transaction (its machine lost) must not hold the head row for long.
      "SET idle_in_transaction_session_timeout = '30s'",
      // The server notices a peer gone without a word in seconds too (its advisory lock freed).
      "SET tcp_keepalives_idle = 5",
      "SET tcp_keepalives_interval = 2",
      "SET tcp_keepalives_count = 3",
      "SET tcp_user_timeout = 10000",
  };
}

bool is_pg_url(std::string_view log) { return log.starts_with("postgresql://") || log.starts_with("postgres://"); }

Result<std::unique_ptr<EventLog>> open_pg_log(const PgLogOptions& options) {
  auto log = std::make_unique<PgLog>(options);
  if (Status s = log->start(); !s) return s.error();
  return std::unique_ptr<EventLog>(std::move(log));
}

PgLog::PgLog(PgLogOptions options)
    : options_(std::move(options)), pool_(options_.url, pg_session_settings("tokenledger")) {}

PgLog::~PgLog() { close(); }

Status PgLog::start() {
  // Not from the pool: at start the operator reads the answer, and libpq's words (the password
  // withheld) say what is wrong; later the pool tells callers only that the database is out of reach.
  auto conn = PgConn::connect(options_.url, pg_session_settings("tokenledger"));
  if (!conn) return conn.error();
  if (!options_.read_only) {
    if (Status s = migrate(**conn); !s) return s;
  }
  Timestamp at{};
  std::uint64_t last_seq = 0;
  auto head = read_head_row(**conn, at, last_seq);
  if (!head) return head.error();
  // The head row is written with every batch: one that disagrees with the last record means
  // records were cut or rewritten behind the program's back (the embedded log's head marker).
  std::string problem;
  if (last_seq != head->seq) {
    problem =
        "the head row names seq " + std::to_string(head->seq) + " but the last record is " + std::to_string(last_seq);
  } else if (last_seq > 0) {
    auto record = read(last_seq);
    if (!record || !*record)
      return record ? Error::internal("record " + std::to_string(last_seq) + " vanished") : record.error();
    if ((*record)->hash != head->hash) problem = "the last record's hash is not the head row's";
  }
  if (!problem.empty() && !options_.read_only) {
    return Error::internal("The PostgreSQL log does not match its head row (" + problem +
                           "): run tokenledger-admin verify, or start with --read-only to read it.");
  }
  {
    std::lock_guard lock(head_mutex_);
    head_ = problem.empty() ? *head : Head{last_seq, last_seq == 0 ? kGenesisHash : head->hash};
    head_marker_ = *head;
  }
  last_at_ = at;
  if (!options_.read_only) {
    appender_ = std::thread([this] { run(); });
    connect_follower();  // so that the first process to start runs the singular jobs from the start
    follower_ = std::thread([this] { follow(); });
  }
  spdlog::info("PostgreSQL log at seq {}", head->seq);
  return {};
}

Head PgLog::head() const {
  std::lock_guard lock(head_mutex_);
  return head_;
}

std::optional<Head> PgLog::head_marker() const {
  std::lock_guard lock(head_mutex_);
  return head_marker_;
}

StoreStats PgLog::stats() const {
  std::lock_guard lock(head_mutex_);
  return stats_;
}

std::uint64_t PgLog::stream_version(const std::string& stream) const {
  auto conn = pool_.lease();
  if (!conn) return kNoStream;
  auto r = (*conn)->exec("SELECT coalesce(max(version), 0) FROM tl_streams WHERE stream = $1 AND seq <= $2",
                         PgParams().bytes(stream).int64(static_cast<std::int64_t>(head().seq)));
  return r ? static_cast<std::uint64_t>(r->int64(0, 0)) : kNoStream;
}

Result<std::optional<std::string>> PgLog::read_raw(std::uint64_t seq) const {
  auto conn = pool_.lease();
  if (!conn) return conn.error();
  auto r =
      (*conn)->exec("SELECT record FROM tl_events WHERE seq = $1", PgParams().int64(static_cast<std::int64_t>(seq)));
  if (!r) return r.error();
  if (r->rows() == 0) return std::optional<std::string>{};
  return std::optional<std::string>{std::string(r->bytes(0, 0))};
}

Result<std::optional<Record>> PgLog::read(std::uint64_t seq) const {
  auto raw = read_raw(seq);
  if (!raw) return raw.error();
  if (!*raw) return std::optional<Record>{};
  auto record = decode_record(**raw);
  if (!record) return Error::internal("record " + std::to_string(seq) + ": " + record.error().message);
  return std::optional<Record>{std::move(record).value()};
}

Status PgLog::read_range(std::uint64_t from, std::uint64_t to, const std::function<bool(const Record&)>& visit,
                         RecordFields fields) const {
  // This process's view ends at its head: records another process appended after it are read
  // once they were folded here too.
  to = std::min(to, head().seq);
  auto conn = pool_.lease();
  if (!conn) return conn.error();
  RecordDecoder decoder;
  Record record;
  for (std::uint64_t next = std::max<std::uint64_t>(from, 1); next <= to;) {
    auto page = (*conn)->exec(
        "SELECT seq, record FROM tl_events WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT " + std::to_string(kPgPage),
        PgParams().int64(static_cast<std::int64_t>(next)).int64(static_cast<std::int64_t>(to)));
    if (!page) return page.error();
    if (page->rows() == 0) break;
    for (int i = 0; i < page->rows(); ++i) {
      const auto seq = static_cast<std::uint64_t>(page->int64(i, 0));
      if (Status s = decoder.decode(page->bytes(i, 1), record, fields); !s) {
        return Error::internal("record " + std::to_string(seq) + ": " + s.error().message);
      }
      if (!visit(record)) return {};
      next = seq + 1;
    }
  }
  return {};
}

Status PgLog::read_range_parallel(std::uint64_t from, std::uint64_t to, const std::function<bool(const Record&)>& visit,
                                  RecordFields fields, unsigned) const {
  // The database reads ahead of the decoder already; one connection keeps the order simple.
  return read_range(from, to, visit, fields);
}

Status PgLog::read_seqs(std::span<const std::uint64_t> seqs, const std::function<bool(const Record&)>& visit) const {
  auto conn = pool_.lease();
  if (!conn) return conn.error();
  Record record;
  RecordDecoder decoder;
  for (std::size_t start = 0; start < seqs.size(); start += 100) {
    const std::size_t n = std::min<std::size_t>(100, seqs.size() - start);
    std::string sql = "SELECT seq, record FROM tl_events WHERE seq IN (";
    PgParams params;
    for (std::size_t i = 0; i < n; ++i) {
      sql += (i ? ",$" : "$") + std::to_string(i + 1);
      params.int64(static_cast<std::int64_t>(seqs[start + i]));
    }
    auto page = (*conn)->exec(sql + ") ORDER BY seq", params);
    if (!page) return page.error();
    int row = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (row >= page->rows() || static_cast<std::uint64_t>(page->int64(row, 0)) != seqs[start + i]) {
        return Error::internal("record " + std::to_string(seqs[start + i]) + " is missing");
      }
      if (Status s = decoder.decode(page->bytes(row, 1), record); !s) return s;
      ++row;
      if (!visit(record)) return {};
    }
  }
  return {};
}

Status PgLog::read_stream(const std::string& stream, const std::function<bool(const Record&)>& visit) const {
  auto conn = pool_.lease();
  if (!conn) return conn.error();
  Record record;
  RecordDecoder decoder;
  const auto head_seq = static_cast<std::int64_t>(head().seq);
  for (std::int64_t after = 0;;) {
    auto page = (*conn)->exec(
        "SELECT s.version, e.record FROM tl_streams s JOIN tl_events e ON e.seq = s.seq "
        "WHERE s.stream = $1 AND s.version > $2 AND s.seq <= $3 ORDER BY s.version LIMIT " +
            std::to_string(kPgPage),
        PgParams().bytes(stream).int64(after).int64(head_seq));
    if (!page) return page.error();
    for (int i = 0; i < page->rows(); ++i) {
      if (Status s = decoder.decode(page->bytes(i, 1), record); !s) return s;
      if (!visit(record)) return {};
      after = page->int64(i, 0);
    }
    if (page->rows() < kPgPage) return {};
  }
}

Status PgLog::scan_stream_index(const std::function<bool(std::string_view, std::string_view)>& visit) const {
  auto conn = pool_.lease();
  if (!conn) return conn.error();
  std::string stream;
  std::int64_t version = -1;
  for (;;) {
    auto page = (*conn)->exec(
        "SELECT stream, version, seq FROM tl_streams WHERE (stream, version) > ($1, $2) ORDER BY stream, version "
        "LIMIT " +
            std::to_string(kPgPage),
        PgParams().bytes(stream).int64(version));
    if (!page) return page.error();
    for (int i = 0; i < page->rows(); ++i) {
      stream = page->bytes(i, 0);
      version = page->int64(i, 1);
      if (!visit(stream_index_key(stream, static_cast<std::uint64_t>(version)), page->bytes(i, 2))) return {};
    }
    if (page->rows() < kPgPage) return {};
  }
}

// ---- appends in and out (the group commit itself is pg_appender.cpp) ----

void PgLog::append_async(AppendRequest request, AppendCallback done) {
  const bool barrier = request.events.empty();
  if (barrier && options_.read_only) {  // a read-only process does not follow the others: nothing to wait for
    done(AppendResult{});
    return;
  }
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_ || options_.read_only) {
      done(Error::unavailable("The event log is closed or read-only; nothing was changed."));
      return;
    }
    if (!refused_.empty() && !barrier) {  // refused appends still follow the others
      done(Error::unavailable("The event log is read-only: " + refused_ + "; nothing was changed."));
      return;
    }
    queue_.push_back({std::move(request), std::move(done)});
  }
  queue_cv_.notify_one();
}

Result<AppendResult> PgLog::append(AppendRequest request) {
  std::promise<Result<AppendResult>> promise;
  auto future = promise.get_future();
  append_async(std::move(request), [&promise](Result<AppendResult> r) { promise.set_value(std::move(r)); });
  return future.get();
}

void PgLog::refuse_writes(std::string reason) {
  std::lock_guard lock(queue_mutex_);
  refused_ = std::move(reason);
}

std::string PgLog::writes_refused() const {
  std::lock_guard lock(queue_mutex_);
  return refused_;
}

void PgLog::stop_appender() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (follower_.joinable()) follower_.join();
  if (appender_.joinable()) appender_.join();
}

void PgLog::close() {
  stop_appender();
  writer_.reset();
  follower_conn_.reset();  // releases the advisory lock
  singletons_.store(false);
}

Status PgLog::import_records(std::span<const std::string> raws) {
  if (options_.read_only) return Error::unavailable("The event log is read-only; nothing was changed.");
  if (raws.empty()) return {};
  auto records = check_imported(raws, head());
  if (!records) return records.error();
  auto conn = pool_.lease();
  if (!conn) return conn.error();
  auto rollback = [&](Error e) -> Status {
    (void)(*conn)->exec("ROLLBACK");
    return e;
  };
  if (auto r = (*conn)->exec("BEGIN"); !r) return r.error();
  auto locked = (*conn)->exec("SELECT seq FROM tl_head FOR UPDATE");
  if (!locked || locked->rows() != 1) return rollback(locked ? Error::internal("no head row") : locked.error());
  if (static_cast<std::uint64_t>(locked->int64(0, 0)) != head().seq) {
    return rollback(Error::unavailable("another process appended meanwhile; nothing was imported"));
  }
  std::vector<std::string> seqs, versions;
  std::vector<std::vector<std::string_view>> events, streams;
  for (const Record& r : *records) {
    seqs.push_back(encode_be64(r.seq));
    versions.push_back(encode_be64(r.version));
  }
  for (std::size_t i = 0; i < records->size(); ++i) {
    events.push_back({seqs[i], (*records)[i].raw});
    streams.push_back({(*records)[i].stream, versions[i], seqs[i]});
  }
  const Record& last = records->back();
  if (Status s = (*conn)->copy_in("COPY tl_events (seq, record) FROM STDIN (FORMAT binary)", events); !s) {
    return rollback(s.error());
  }
  if (Status s = (*conn)->copy_in("COPY tl_streams (stream, version, seq) FROM STDIN (FORMAT binary)", streams); !s) {
    return rollback(s.error());
  }
  auto moved = (*conn)->exec(
      "UPDATE tl_head SET seq = $1, hash = $2, at_ms = $3",
      PgParams().int64(static_cast<std::int64_t>(last.seq)).bytes(last.hash).int64(last.at.time_since_epoch().count()));
  if (!moved) return rollback(moved.error());
  if (auto r = (*conn)->exec("COMMIT"); !r) return r.error();
  std::lock_guard lock(head_mutex_);
  head_ = {last.seq, last.hash};
  head_marker_ = head_;
  last_at_ = std::max(last_at_, last.at);
  return {};
}

}  // namespace tl
