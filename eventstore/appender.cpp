// The group commit: one appender thread takes every waiting append, checks its expected
// versions, chains its records, and writes the whole batch (records, stream index, index
// entries, side writes, head marker) as one synced WriteBatch; then tells the subscribers and
// only then the waiters.
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <algorithm>

#include "common/time_format.hpp"
#include "eventstore/batch_stats.hpp"
#include "eventstore/chained_record.hpp"
#include "eventstore/event_store_impl.hpp"

namespace tl {

namespace {

Error conflict(const std::string& stream, std::uint64_t at, std::uint64_t expected) {
  return Error::version_conflict("The stream " + stream + " is at version " + std::to_string(at) + ", not " +
                                 std::to_string(expected) + ".");
}

}  // namespace

void EventStore::Impl::run() {
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

// Chains and writes every waiting request as one synced batch. A request whose expected
// version does not match is refused alone; a failed write refuses the whole batch.
void EventStore::Impl::commit(std::vector<Pending>& pending) {
  Prepared p;
  p.outcomes.resize(pending.size());
  {
    std::lock_guard lock(head_mutex);
    p.next = head;
  }
  // Time never runs backwards along the log, so a time range is a seq range.
  p.at = std::max(now_ms(), last_at);
  for (std::size_t i = 0; i < pending.size(); ++i) prepare(p, pending[i].request, p.outcomes[i]);
  if (p.records.empty()) {
    record_stats(true, 0, {}, p.outcomes);  // nothing to write: the refusals are still counted
  } else if (!refuse_when_disk_full(p, pending.size())) {
    resume_after_failure();
    write_and_publish(p, pending.size());
  }
  for (std::size_t i = 0; i < pending.size(); ++i) pending[i].done(std::move(*p.outcomes[i]));
}

// Adds one request to the batch, or sets its refusal; either way `outcome` is set.
void EventStore::Impl::prepare(Prepared& p, AppendRequest& req, std::optional<Result<AppendResult>>& outcome) {
  if (req.events.empty()) {  // a barrier; append_async completes those at once
    outcome = AppendResult{};
    return;
  }
  // The version of a stream as of this point of the batch (earlier requests included).
  auto version_of = [&](const std::string& stream) -> std::uint64_t& {
    auto [pos, fresh] = p.versions.try_emplace(stream, 0);
    if (fresh) {
      if (auto cached = version_cache.find(stream); cached != version_cache.end()) {
        pos->second = cached->second;
      } else {
        // One iterator for the whole batch: creating one costs more than the seek.
        if (!p.stream_it) p.stream_it.reset(db->NewIterator({}, cf("streams")));
        pos->second = stored_stream_version(stream, *p.stream_it);
      }
    }
    return pos->second;
  };
  if (req.condition) {
    const std::uint64_t at_version = version_of(req.condition->stream);
    if (at_version != req.condition->version) {
      outcome = conflict(req.condition->stream, at_version, req.condition->version);
      return;
    }
  }
  std::uint64_t& version = version_of(req.stream);
  if (req.expected_version != kAnyVersion && req.expected_version != version) {
    outcome = conflict(req.stream, version, req.expected_version);
    return;
  }
  AppendResult result{p.next.seq + 1, 0, 0, p.at};
  if (Status readable = chain_events(p, req, version); !readable) {
    spdlog::error("append to {} refused: {}", req.stream, readable.error().message);
    outcome =
        Error::internal("The event could not be recorded: " + readable.error().message + "; nothing was changed.");
    return;
  }
  for (const SideWrite& side : req.side_writes) {
    if (side.value) {
      p.batch.Put(cf(side.store), side.key, *side.value);
    } else {
      p.batch.Delete(cf(side.store), side.key);
      p.shreds = true;
    }
  }
  result.last_seq = p.next.seq;
  result.next_expected_version = version;
  outcome = result;
}

// Turns the request's events into chained records in the batch, with their stream index and
// index entries. A request whose record would not read back is refused alone, with nothing of
// it kept (the batch, the head, the version and the records are as before).
Status EventStore::Impl::chain_events(Prepared& p, AppendRequest& req, std::uint64_t& version) {
  const Head before = p.next;
  const std::uint64_t version_before = version;
  const std::size_t records_before = p.records.size();
  RocksBatch index_batch(*this, p.batch);
  p.batch.SetSavePoint();
  Status readable;
  for (Event& event : req.events) {
    auto chained = chained_record(req, std::move(event), p.next, version + 1, p.at, round_trip);
    if (!chained) {
      readable = chained.error();
      break;
    }
    Record& r = *chained;
    ++version;
    p.next = {r.seq, r.hash};
    p.batch.Put(cf("events"), encode_be64(r.seq), r.raw);
    p.batch.Put(cf("streams"), stream_index_key(r.stream, r.version), encode_be64(r.seq));
    for (IndexWriter* w : index_writers) w->index(r, index_batch);
    p.records.push_back(std::move(r));
  }
  if (!readable) {
    p.batch.RollbackToSavePoint().PermitUncheckedError();
    p.next = before;
    version = version_before;
    p.records.resize(records_before);
    return readable;
  }
  p.batch.PopSavePoint().PermitUncheckedError();
  return {};
}

// Faults (issue 6): true, with every accepted append refused, while the disk holding the log
// has less free space than StoreOptions::min_free_bytes.
std::optional<std::uint64_t> EventStore::Impl::disk_nearly_full() const {
  if (options.min_free_bytes == 0) return std::nullopt;
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) != 0) return std::nullopt;
  const std::uint64_t free_bytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
  if (free_bytes >= options.min_free_bytes) return std::nullopt;
  return free_bytes;
}

bool EventStore::Impl::refuse_when_disk_full(Prepared& p, std::size_t pending) {
  const auto free_bytes = disk_nearly_full();
  if (!free_bytes) return false;
  spdlog::error("disk nearly full ({} bytes free, {} reserved): {} appends refused", *free_bytes,
                options.min_free_bytes, pending);
  for (auto& outcome : p.outcomes) {
    if (outcome->ok()) {
      // No figures: a caller has no use for the free space, an attacker would watch it
      // fill. The operator's log above has them.
      outcome = Error::unavailable("The server cannot write at the moment; nothing was changed. Try again later.");
    }
  }
  record_stats(false, p.records.size(), {}, p.outcomes);
  return true;
}

void EventStore::Impl::resume_after_failure() {
  if (!needs_resume) return;
  // A failed write may leave RocksDB refusing every write until Resume() succeeds; the
  // Resume() right after the failure fails too while the cause (e.g. no space) remains.
  if (db->Resume().ok()) {
    needs_resume = false;
    spdlog::info("event log writable again");
  }
}

// The synced write; on success the new head, the subscribers; on failure every accepted append
// refused.
void EventStore::Impl::write_and_publish(Prepared& p, std::size_t pending) {
  // The head as written, beside the log: a cut of the newest records is seen at the next
  // open (see head_marker()).
  p.batch.Put(cf(SideStore::meta), kHeadMarkerKey, encode_head_marker(p.next));
  rocksdb::WriteOptions write_options;
  write_options.sync = options.sync;
  const auto started = std::chrono::steady_clock::now();
  const rocksdb::Status s = db->Write(write_options, &p.batch);
  record_stats(s.ok(), p.records.size(), std::chrono::steady_clock::now() - started, p.outcomes);
  if (!s.ok()) {
    spdlog::error("event log write failed, {} appends refused: {}", pending, s.ToString());
    for (auto& outcome : p.outcomes) {
      if (outcome->ok()) outcome = storage_error(s);
    }
    // A failed write may leave RocksDB in a background-error state; try to leave it.
    needs_resume = !db->Resume().ok();
    return;
  }
  {
    std::lock_guard lock(head_mutex);
    head = p.next;
    head_marker = p.next;
  }
  last_at = p.at;
  remember_versions(p.versions);
  if (p.shreds && shredder) shredder->deleted();
  for (Subscriber* subscriber : subscribers) subscriber->on_committed(p.records);
}

void EventStore::Impl::record_stats(bool ok, std::size_t events, std::chrono::steady_clock::duration took,
                                    const std::vector<std::optional<Result<AppendResult>>>& outcomes) {
  std::lock_guard lock(head_mutex);
  count_batch(stats, ok, events, std::chrono::duration<double>(took).count(), outcomes);
}

void EventStore::Impl::remember_versions(const std::unordered_map<std::string, std::uint64_t>& versions) {
  const std::size_t capacity = options.stream_version_cache;
  if (capacity == 0) return;
  for (const auto& [stream, version] : versions) {
    if (version_cache.size() >= capacity) version_cache.clear();  // cheaper than an LRU, good enough
    version_cache.insert_or_assign(stream, version);
  }
}

}  // namespace tl
