// The PostgreSQL log's group commit (pg_log.hpp): one appender thread takes every waiting append
// into one transaction that locks the head row, checks expected versions against the database,
// chains the records and writes them with their stream index, index entries, side writes, the
// new head and the batch's idempotency key; after COMMIT it tells the subscribers, then the
// waiters. Nothing is acknowledged that PostgreSQL has not acknowledged.
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/time_format.hpp"
#include "eventstore/batch_stats.hpp"
#include "eventstore/chain_link.hpp"
#include "eventstore/chained_record.hpp"
#include "eventstore/pg_log_impl.hpp"

namespace tl {
namespace {

Error conflict(const std::string& stream, std::uint64_t at, std::uint64_t expected) {
  return Error::version_conflict("The stream " + stream + " is at version " + std::to_string(at) + ", not " +
                                 std::to_string(expected) + ".");
}

std::int64_t i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }

// A COMMIT that comes back with a warning is not acknowledged: the one that matters, "canceling
// wait for synchronous replication … committed locally, but might not have been replicated"
// (src/backend/replication/syncrep.c), has only the generic SQLSTATE 01000 and is translated
// under other lc_messages, so any warning counts.
bool unreplicated_warning(const std::vector<std::string>& warnings) { return !warnings.empty(); }

}  // namespace

void PgLog::run() {
  std::vector<Pending> batch;
  for (;;) {
    {
      std::unique_lock lock(queue_mutex_);
      queue_cv_.wait(lock, [&] { return !queue_.empty() || catch_up_ || stopping_; });
      if (queue_.empty() && !catch_up_) return;
      catch_up_ = false;
      batch.swap(queue_);
    }
    commit(batch);
    batch.clear();
  }
}

Status PgLog::ensure_writer() {
  if (writer_ && !writer_->connection_lost() && !writer_->in_transaction()) return {};
  writer_.reset();  // broken, or left in a transaction by a failure: a new session starts clean
  auto conn = PgConn::connect(options_.url, pg_session_settings("tokenledger"));
  if (!conn) return pg_unreachable(conn.error());
  writer_ = std::move(conn).value();
  // Who this session is, so that after a broken COMMIT it can be ended on this server and no other.
  auto me = writer_->exec("SELECT backend_start::text FROM pg_stat_activity WHERE pid = pg_backend_pid()");
  writer_identity_ = {writer_->backend_pid(), me && me->rows() == 1 ? std::string(me->bytes(0, 0)) : std::string()};
  return {};
}

void PgLog::commit(std::vector<Pending>& pending) {
  Prepared p;
  p.outcomes.resize(pending.size());
  const bool appends =
      std::any_of(pending.begin(), pending.end(), [](const Pending& q) { return !q.request.events.empty(); });
  if (Status begun = begin_batch(p, appends); !begun) {
    if (pending.empty()) {
      spdlog::warn("PostgreSQL log: catching up with the other processes failed: {}", begun.error().message);
    } else {
      spdlog::error("PostgreSQL log: {} appends refused: {}", pending.size(), begun.error().message);
    }
    for (auto& outcome : p.outcomes) outcome = Error::unavailable(begun.error().message + "; nothing was changed.");
  } else {
    for (std::size_t i = 0; i < pending.size(); ++i) prepare(p, pending[i].request, p.outcomes[i]);
    if (p.broken) {
      (void)writer_->exec("ROLLBACK");
      refuse_all(p, *p.broken);
    } else if (p.records.empty()) {  // refusals only, or a catch-up without appends
      (void)writer_->exec("ROLLBACK");
      record_stats(false, 0, 0, p);
    } else {
      std::string batch_key(16, '\0');
      randombytes_buf(batch_key.data(), batch_key.size());
      const auto started = std::chrono::steady_clock::now();
      Status written = write_batch(p, batch_key);
      if (!written) {
        (void)writer_->exec("ROLLBACK");
        refuse_all(p, written.error());
      } else {
        written = finish(p, batch_key);
      }
      record_stats(written.ok(), p.records.size(),
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), p);
    }
  }
  for (std::size_t i = 0; i < pending.size(); ++i) pending[i].done(std::move(*p.outcomes[i]));
}

// Opens the batch's transaction with the head row locked; records other processes appended
// since this one's head are folded here first, so versions and the chain start from the
// database's head.
Status PgLog::begin_batch(Prepared& p, bool appends) {
  if (Status s = ensure_writer(); !s) return s;
  if (auto r = writer_->exec("BEGIN"); !r) {
    // Nothing was sent yet: a connection that broke since the last batch is made anew once.
    if (!writer_->connection_lost()) return r.error();
    writer_.reset();
    if (Status s = ensure_writer(); !s) return s;
    if (auto again = writer_->exec("BEGIN"); !again) return again.error();
  }
  auto locked =
      writer_->exec("SELECT seq, hash, at_ms, current_setting('synchronous_standby_names') FROM tl_head FOR UPDATE");
  if (!locked || locked->rows() != 1) {
    (void)writer_->exec("ROLLBACK");
    return locked ? Error::internal("the PostgreSQL log has no head row") : locked.error();
  }
  const bool no_standby = locked->bytes(0, 3).empty() && !options_.allow_async;
  p.next = {static_cast<std::uint64_t>(locked->int64(0, 0)), std::string(locked->bytes(0, 1))};
  const Timestamp head_at{std::chrono::milliseconds(locked->int64(0, 2))};
  const Head mine = head();
  if (p.next.seq < mine.seq) {
    (void)writer_->exec("ROLLBACK");
    return Error::unavailable("the database's head (seq " + std::to_string(p.next.seq) +
                              ") is behind this process's (" + std::to_string(mine.seq) +
                              "): acknowledged records are missing");
  }
  if (p.next.seq > mine.seq) {
    version_cache_.clear();  // another process (or an append whose outcome was unknown) wrote
    if (Status s = publish_others(p.next.seq, p.next.hash); !s) {
      (void)writer_->exec("ROLLBACK");
      return s;
    }
  }
  // Checked after the catch-up, so that a process keeps following while appends are refused.
  if (no_standby && appends) {
    (void)writer_->exec("ROLLBACK");
    return Error::unavailable(
        "PostgreSQL has no synchronous standby (synchronous_standby_names is empty), so a write would be on one "
        "machine only; appends are refused until one is configured (--pg-allow-async for a single development "
        "instance)");
  }
  // Time never runs backwards along the log, across processes too.
  p.at = std::max({now_ms(), last_at_, head_at});
  return {};
}

// Tells the subscribers of the records (this process's head, to_seq], which another process
// appended (their index entries and side writes were committed with them). Each is checked as
// verify checks it (its bytes match its hash, it links to the one before) and the last must be
// the head row's: a record altered or cut behind the program's back is never chained onto.
Status PgLog::publish_others(std::uint64_t to_seq, const std::string& to_hash) {
  const Head mine = head();
  std::vector<Record> records;
  auto page = writer_->exec("SELECT record FROM tl_events WHERE seq > $1 AND seq <= $2 ORDER BY seq",
                            PgParams().int64(i64(mine.seq)).int64(i64(to_seq)));
  if (!page) return page.error();
  ChainLink link{mine.seq, mine.hash};
  for (int i = 0; i < page->rows(); ++i) {
    CheckedRecord checked = check_record_bytes(page->bytes(i, 0));
    std::string problem = checked.problem;
    if (problem.empty()) problem = link.problem(*checked.record);
    if (problem.empty() && checked.record->seq != link.seq + 1) problem = "records are missing before it";
    if (!problem.empty()) {
      const std::string why = "record " + std::to_string(link.seq + 1) + " (another process's): " + problem +
                              "; appends are refused: run tokenledger-admin verify";
      spdlog::error("PostgreSQL log: {}", why);
      return Error::internal(why);
    }
    link = {checked.record->seq, checked.record->hash};
    records.push_back(std::move(*checked.record));
  }
  if (link.seq != to_seq || link.hash != to_hash) {
    return Error::internal("the records up to the head row's seq " + std::to_string(to_seq) +
                           " do not end at its hash; appends are refused: run tokenledger-admin verify");
  }
  {
    std::lock_guard lock(head_mutex_);
    head_ = {to_seq, records.back().hash};
    head_marker_ = head_;
  }
  last_at_ = std::max(last_at_, records.back().at);
  for (Subscriber* subscriber : subscribers_) subscriber->on_committed(records);
  return {};
}

Result<std::uint64_t> PgLog::version_of(Prepared& p, const std::string& stream) {
  if (auto in_batch = p.versions.find(stream); in_batch != p.versions.end()) return in_batch->second;
  std::uint64_t version = 0;
  if (auto cached = version_cache_.find(stream); cached != version_cache_.end()) {
    version = cached->second;
  } else {
    auto r =
        writer_->exec("SELECT coalesce(max(version), 0) FROM tl_streams WHERE stream = $1", PgParams().bytes(stream));
    if (!r) return r.error();
    version = static_cast<std::uint64_t>(r->int64(0, 0));
  }
  p.versions.emplace(stream, version);
  return version;
}

void PgLog::prepare(Prepared& p, AppendRequest& req, std::optional<Result<AppendResult>>& outcome) {
  if (p.broken) {
    outcome = *p.broken;
    return;
  }
  if (req.events.empty()) {  // a barrier: begin_batch has folded the others' records up to the head row
    outcome = AppendResult{};
    return;
  }
  auto version_or_break = [&](const std::string& stream) -> std::optional<std::uint64_t> {
    auto v = version_of(p, stream);
    if (v) return *v;
    p.broken = Error::unavailable(v.error().message + "; nothing was changed.");
    outcome = *p.broken;
    return std::nullopt;
  };
  if (req.condition) {
    const auto at_version = version_or_break(req.condition->stream);
    if (!at_version) return;
    if (*at_version != req.condition->version) {
      outcome = conflict(req.condition->stream, *at_version, req.condition->version);
      return;
    }
  }
  const auto current = version_or_break(req.stream);
  if (!current) return;
  if (req.expected_version != kAnyVersion && req.expected_version != *current) {
    outcome = conflict(req.stream, *current, req.expected_version);
    return;
  }
  std::uint64_t version = *current;
  AppendResult result{p.next.seq + 1, 0, 0, p.at};
  if (Status readable = chain_events(p, req, version); !readable) {
    spdlog::error("append to {} refused: {}", req.stream, readable.error().message);
    outcome =
        Error::internal("The event could not be recorded: " + readable.error().message + "; nothing was changed.");
    return;
  }
  p.versions[req.stream] = version;
  for (const SideWrite& side : req.side_writes) {
    if (side.value) {
      p.kv.put(side_store_name(side.store), side.key, *side.value);
    } else {
      p.kv.erase(side_store_name(side.store), side.key);
    }
  }
  result.last_seq = p.next.seq;
  result.next_expected_version = version;
  outcome = result;
}

// As the embedded log's chain_events: a request whose record would not read back is refused
// alone, with nothing of it kept.
Status PgLog::chain_events(Prepared& p, AppendRequest& req, std::uint64_t& version) {
  const Head before = p.next;
  const std::uint64_t version_before = version;
  const std::size_t records_before = p.records.size();
  PgKvBatch index;
  for (Event& event : req.events) {
    auto chained = chained_record(req, std::move(event), p.next, version + 1, p.at, round_trip_);
    if (!chained) {
      p.next = before;
      version = version_before;
      p.records.resize(records_before);
      return chained.error();
    }
    Record& r = *chained;
    ++version;
    p.next = {r.seq, r.hash};
    for (IndexWriter* w : index_writers_) w->index(r, index);
    p.records.push_back(std::move(r));
  }
  p.kv.absorb(index);
  return {};
}

Status PgLog::write_batch(Prepared& p, const std::string& batch_key) {
  std::vector<std::string> seqs, versions;
  seqs.reserve(p.records.size());
  versions.reserve(p.records.size());
  std::vector<std::vector<std::string_view>> events, streams;
  for (const Record& r : p.records) {
    seqs.push_back(encode_be64(r.seq));
    versions.push_back(encode_be64(r.version));
  }
  for (std::size_t i = 0; i < p.records.size(); ++i) {
    events.push_back({seqs[i], p.records[i].raw});
    streams.push_back({p.records[i].stream, versions[i], seqs[i]});
  }
  if (Status s = writer_->copy_in("COPY tl_events (seq, record) FROM STDIN (FORMAT binary)", events); !s) return s;
  if (Status s = writer_->copy_in("COPY tl_streams (stream, version, seq) FROM STDIN (FORMAT binary)", streams); !s) {
    return s;
  }
  if (Status s = p.kv.apply(*writer_); !s) return s;
  if (auto r =
          writer_->exec("UPDATE tl_head SET seq = $1, hash = $2, at_ms = $3",
                        PgParams().int64(i64(p.next.seq)).bytes(p.next.hash).int64(p.at.time_since_epoch().count()));
      !r) {
    return r.error();
  }
  // Wakes the other processes' followers when the transaction commits (LISTEN tl_appended).
  if (auto notified = writer_->exec("NOTIFY tl_appended"); !notified) return notified.error();
  auto r = writer_->exec("INSERT INTO tl_appends (key, first_seq, last_seq) VALUES ($1, $2, $3)",
                         PgParams().bytes(batch_key).int64(i64(p.records.front().seq)).int64(i64(p.next.seq)));
  if (!r) return r.error();
  return {};
}

// COMMIT, never cancelled, and what its outcome means for the waiters.
Status PgLog::finish(Prepared& p, const std::string& batch_key) {
  (void)writer_->take_warnings();
  auto committed = writer_->exec("COMMIT");
  if (committed && unreplicated_warning(writer_->take_warnings())) {
    // In the primary's log, but a failover may lose it: not acknowledged, and not folded here
    // either; the next catch-up folds it if it is still there.
    refuse_all(p, Error::unavailable("The write was committed on the PostgreSQL primary, but its replication to a "
                                     "standby was not confirmed, so it is not acknowledged; check before retrying."));
    return Error::unavailable("unreplicated commit");
  }
  if (committed) {
    publish(p);
    return {};
  }
  if (!writer_->connection_lost()) {
    refuse_all(p, Error::unavailable(committed.error().message + "; nothing was changed."));
    return committed.error();
  }
  // The outcome is unknown: the batch's key tells once the database answers again.
  spdlog::warn("PostgreSQL log: the connection broke during COMMIT; looking the batch up");
  const auto give_up = std::chrono::steady_clock::now() + options_.resolve_for;
  const WriterIdentity old_writer = writer_identity_;
  for (;;) {
    auto found = batch_committed(batch_key, old_writer);
    if (found && *found) {
      // Committed, but maybe on the primary only: a later synchronous commit that returns without
      // the warning shows the standby has everything before it, this batch included. Folded
      // only then (otherwise the next catch-up folds it).
      if (Status replicated = replication_barrier(); !replicated) {
        refuse_all(p, Error::unavailable("The write was committed on the PostgreSQL primary, but its replication to a "
                                         "standby was not confirmed, so it is not acknowledged; check before "
                                         "retrying."));
        return replicated;
      }
      publish(p);
      return {};
    }
    if (found) {
      refuse_all(p, Error::unavailable("The connection to PostgreSQL broke; nothing was changed."));
      return Error::unavailable("not committed");
    }
    if (std::chrono::steady_clock::now() >= give_up) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  refuse_all(p, Error::unavailable(
                    "The connection to PostgreSQL broke during the commit and the outcome is not known yet; the "
                    "write may have landed: read it back before retrying."));
  return Error::unavailable("outcome unknown");
}

// Whether the batch with `batch_key` committed, once the session that sent its COMMIT (`old`) has
// ended: that session may still be inside COMMIT, waiting for the standby with the head row
// locked and its outcome not yet visible, so reading the key at once could say "no" of a batch
// that lands a moment later. It is ended (when it is on this server: its pid and start time
// match) and its lock waited for, in slices of 2 s (the caller retries until resolve_for).
Result<bool> PgLog::batch_committed(const std::string& batch_key, const WriterIdentity& old) {
  writer_.reset();
  if (Status s = ensure_writer(); !s) return s.error();
  if (!old.backend_start.empty()) {
    (void)writer_->exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ($1::bigint)::integer AND "
        "backend_start::text = $2::text",
        PgParams().int64(old.pid).bytes(old.backend_start));
  }
  auto found = [&]() -> Result<bool> {
    for (const char* sql : {"BEGIN", "SET LOCAL lock_timeout = '2s'", "SELECT 1 FROM tl_head FOR UPDATE"}) {
      if (auto r = writer_->exec(sql); !r) return r.error();
    }
    auto r = writer_->exec("SELECT 1 FROM tl_appends WHERE key = $1", PgParams().bytes(batch_key));
    if (!r) return r.error();
    return r->rows() == 1;
  }();
  if (!writer_->connection_lost()) (void)writer_->exec("ROLLBACK");
  return found;
}

Status PgLog::replication_barrier() {
  (void)writer_->take_warnings();
  // Without a synchronous standby the barrier's commit proves nothing.
  auto standby = writer_->exec("SELECT current_setting('synchronous_standby_names')");
  if (!standby) return standby.error();
  if (standby->bytes(0, 0).empty() && !options_.allow_async) {
    return Error::unavailable("PostgreSQL has no synchronous standby (synchronous_standby_names is empty)");
  }
  for (const char* sql : {"BEGIN", "UPDATE tl_head SET at_ms = at_ms", "COMMIT"}) {
    if (auto r = writer_->exec(sql); !r) {
      if (!writer_->connection_lost()) (void)writer_->exec("ROLLBACK");
      return r.error();
    }
  }
  if (unreplicated_warning(writer_->take_warnings())) return Error::unavailable("unreplicated commit");
  return {};
}

void PgLog::publish(Prepared& p) {
  {
    std::lock_guard lock(head_mutex_);
    head_ = p.next;
    head_marker_ = p.next;
  }
  last_at_ = p.at;
  for (const auto& [stream, version] : p.versions) {
    if (version_cache_.size() >= 65536) version_cache_.clear();
    version_cache_.insert_or_assign(stream, version);
  }
  for (Subscriber* subscriber : subscribers_) subscriber->on_committed(p.records);
}

void PgLog::refuse_all(Prepared& p, const Error& error) {
  for (auto& outcome : p.outcomes) {
    if (outcome->ok()) outcome = error;
  }
}

void PgLog::record_stats(bool ok, std::size_t events, double seconds, const Prepared& p) {
  std::lock_guard lock(head_mutex_);
  count_batch(stats_, ok, events, seconds, p.outcomes);
}

}  // namespace tl
