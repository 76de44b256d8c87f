#include "projections/audit_index.hpp"

#include <utility>
#include <variant>

#include "eventstore/codec.hpp"

namespace tl {
namespace {

std::string index_key(char kind, std::string_view value, std::uint64_t seq) {
  std::string key(1, kind);
  key += value;
  key.push_back('\0');
  key += encode_be64(seq);
  return key;
}

bool matches(const AuditFilter& f, const Record& r) {
  return (f.token_id.empty() || r.token_id == f.token_id) && (f.actor.empty() || r.actor.user == f.actor) &&
         (f.owner.empty() || r.owner == f.owner) && (f.type.empty() || event_type(r.event) == f.type);
}

template <std::size_t... I>
std::vector<std::string> event_types(std::index_sequence<I...>) {
  return {std::string(event_type(Event(std::in_place_index<I>)))...};
}

}  // namespace

void AuditIndex::keys_of(const Record& record, std::vector<std::string>& out, bool with_owner) {
  out.clear();
  if (!record.token_id.empty()) out.push_back(index_key('t', record.token_id, record.seq));
  out.push_back(index_key('a', record.actor.user, record.seq));
  if (with_owner && !record.owner.empty()) out.push_back(index_key('o', record.owner, record.seq));
  out.push_back(index_key('y', event_type(record.event), record.seq));
}

std::uint64_t AuditIndex::seq_of_key(std::string_view key) {
  return key.size() < 8 ? 0 : decode_be64(key.substr(key.size() - 8));
}

const std::vector<std::string>& known_event_types() {
  static const auto types = event_types(std::make_index_sequence<std::variant_size_v<Event>>{});
  return types;
}

void AuditIndex::index(const Record& record, IndexBatch& batch) {
  thread_local std::vector<std::string> keys;
  keys_of(record, keys);
  for (const auto& key : keys) batch.put(kColumnFamily, key, {});
}

std::uint64_t AuditIndex::first_seq_at_or_after(Timestamp t) const {
  std::uint64_t lo = 1, hi = store_.head().seq + 1;
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    auto record = store_.read(mid);
    if (record && *record && (*record)->at < t) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

Status AuditIndex::scan(const AuditFilter& filter, const std::function<bool(const Record&)>& visit) const {
  std::uint64_t lo = filter.after_seq + 1;
  std::uint64_t hi = store_.head().seq;
  if (filter.head_seq) hi = std::min(hi, *filter.head_seq);
  if (filter.after_seq >= hi) return {};  // also keeps after_seq + 1 from wrapping
  if (filter.since) lo = std::max(lo, first_seq_at_or_after(*filter.since));
  if (filter.until) hi = std::min(hi, first_seq_at_or_after(*filter.until) - 1);
  if (lo > hi) return {};

  // The most selective index that the filter names; with none, the log itself. The owner keys
  // answer only once they cover every record (a directory not yet back-filled scans otherwise).
  char kind = 0;
  std::string value;
  bool by_owner = false;
  if (!filter.owner.empty() && filter.token_id.empty()) {
    auto complete = owner_index_complete(store_);
    if (!complete) return std::move(complete).error();
    by_owner = *complete;
  }
  if (!filter.token_id.empty()) {
    kind = 't', value = filter.token_id;
  } else if (by_owner) {
    kind = 'o', value = filter.owner;
  } else if (!filter.actor.empty()) {
    kind = 'a', value = filter.actor;
  } else if (!filter.type.empty()) {
    kind = 'y', value = filter.type;
  }
  if (kind == 0) {
    return store_.read_range(lo, hi, [&](const Record& r) { return !matches(filter, r) || visit(r); });
  }
  const std::string prefix = index_key(kind, value, 0).substr(0, value.size() + 2);
  return scan_entries(
      prefix, lo, hi, [&](const Record& r) { return matches(filter, r); }, visit);
}

Status AuditIndex::scan_entries(const std::string& prefix, std::uint64_t lo, std::uint64_t hi,
                                const std::function<bool(const Record&)>& keep,
                                const std::function<bool(const Record&)>& visit) const {
  // The records are read a batch of seqs at a time (EventLog::read_seqs); the first batch is
  // small, since a page is often a token's few events.
  std::vector<std::uint64_t> seqs;
  bool more = true;
  std::size_t batch = 16;
  auto flush = [&]() -> Status {
    auto read = store_.read_seqs(seqs, [&](const Record& record) {
      if (keep(record)) more = visit(record);
      return more;
    });
    seqs.clear();
    batch = 128;
    return read;
  };
  const std::string from = prefix + encode_be64(lo);
  Status flushed;
  const StateScan entries{.prefix = prefix, .from = from};
  auto scanned = store_.state().scan(kColumnFamily, entries, [&](std::string_view key, std::string_view) {
    // A key of another value that merely starts with this one's bytes has more than 8 left.
    if (key.size() != prefix.size() + 8) return true;
    const std::uint64_t seq = decode_be64(key.substr(prefix.size()));
    if (seq > hi) return false;
    seqs.push_back(seq);
    if (seqs.size() == batch) flushed = flush();
    return more && flushed.ok();
  });
  if (!flushed) return flushed;
  if (!scanned) return Error::unavailable("audit index: " + scanned.error().message);
  if (more && !seqs.empty()) return flush();
  return {};
}

Result<AuditPage> AuditIndex::query(const AuditFilter& filter, std::size_t limit) const {
  AuditPage page;
  bool more = false;
  auto status = scan(filter, [&](const Record& r) {
    if (page.events.size() == limit) {
      more = true;
      return false;
    }
    page.events.push_back(r);
    return true;
  });
  if (!status) return std::move(status).error();
  if (more && !page.events.empty()) page.next_after_seq = page.events.back().seq;
  return page;
}

Status AuditIndex::rebuild(const std::function<void(std::uint64_t)>& progress) {
  // One past any key: every key starts with 't', 'a', 'o', 'y' or '#' (the marker).
  return rewrite_from_log(
      std::string(1, '\0'), std::string(1, '\x7f'), [this](const Record& r, IndexBatch& batch) { index(r, batch); },
      progress);
}

// Erases [erase_from, erase_to) of the index, then writes `keys_of_record` for every record of the
// log, 10,000 records a batch, and the owner-index marker with the last batch (the keys written
// then cover every record). Errors: unavailable.
Status AuditIndex::rewrite_from_log(const std::string& erase_from, const std::string& erase_to,
                                    const std::function<void(const Record&, IndexBatch&)>& keys_of_record,
                                    const std::function<void(std::uint64_t)>& progress) {
  StateStore& state = store_.state();
  if (auto s = state.erase_range(kColumnFamily, erase_from, erase_to); !s) {
    return Error::unavailable("audit index: " + s.error().message);
  }
  auto batch = state.new_batch();
  std::uint64_t count = 0;
  Status written;
  auto folded = store_.read_range(1, UINT64_MAX, [&](const Record& r) {
    keys_of_record(r, *batch);
    if (++count % 10000 == 0) {
      if (auto w = state.write(*batch); !w) {
        written = Error::unavailable("audit index: " + w.error().message);
        return false;
      }
      batch->clear();
      if (progress) progress(count);
    }
    return true;
  });
  if (!folded) return folded;
  if (!written) return written;
  batch->put(kColumnFamily, kOwnerIndexMarker, {});
  if (auto w = state.write(*batch); !w) return Error::unavailable("audit index: " + w.error().message);
  return {};
}

Result<bool> AuditIndex::owner_index_complete(const EventLog& store) {
  auto has = store.state().has(kColumnFamily, kOwnerIndexMarker);
  if (!has) return Error::unavailable("audit index: " + has.error().message);
  return *has;
}

Status AuditIndex::backfill_owner_index(const std::function<void(std::uint64_t)>& progress) {
  auto complete = owner_index_complete(store_);
  if (!complete) return std::move(complete).error();
  if (*complete) return {};
  // The owner keys written since this release ran here are written again: the same keys.
  return rewrite_from_log(
      "o", "p",
      [](const Record& r, IndexBatch& batch) {
        if (!r.owner.empty()) batch.put(kColumnFamily, index_key('o', r.owner, r.seq), {});
      },
      progress);
}

Status AuditIndex::scan_owner(const std::string& owner, std::uint64_t after_seq, std::uint64_t last_seq,
                              const std::function<bool(const Record&)>& visit) const {
  if (last_seq <= after_seq) return {};
  const std::string prefix = index_key('o', owner, 0).substr(0, owner.size() + 2);
  // An entry that names another owner's record (a damaged index) is skipped, as the full fold would.
  return scan_entries(
      prefix, after_seq + 1, last_seq, [&](const Record& r) { return r.owner == owner; }, visit);
}

Result<std::uint64_t> AuditIndex::count_owner_records(const StateStore& state, std::string_view owner,
                                                      std::uint64_t after_seq, std::uint64_t last_seq) {
  std::uint64_t count = 0;
  if (last_seq <= after_seq) return count;
  const std::string from = index_key('o', owner, after_seq + 1);
  const std::string prefix = from.substr(0, from.size() - 8);
  auto scanned =
      state.scan(kColumnFamily, {.prefix = prefix, .from = from}, [&](std::string_view key, std::string_view) {
        if (seq_of_key(key) > last_seq) return false;
        ++count;
        return true;
      });
  if (!scanned) return std::move(scanned).error();
  return count;
}

Result<std::uint64_t> last_seq_at_or_before(const EventLog& store, Timestamp t) {
  std::uint64_t lo = 0, hi = store.head().seq;  // the answer is in [lo, hi]
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo + 1) / 2;
    auto record = store.read(mid);
    if (!record) return std::move(record).error();
    if (!*record) return Error::internal("the log has no record at seq " + std::to_string(mid));
    if ((*record)->at <= t) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

std::vector<std::string> AuditIndex::dump() const {
  std::vector<std::string> keys;
  (void)store_.state().scan(kColumnFamily, {}, [&](std::string_view key, std::string_view) {
    keys.emplace_back(key);
    return true;
  });
  return keys;
}

}  // namespace tl
