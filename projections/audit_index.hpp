// The audit index: for every record, keys by token, by actor and by type, written in the same
// batch as the record (an IndexWriter), so the index is never behind the log. Time ranges need
// no index: the log's times never decrease along seq, so a time bound is a seq bound, found
// by binary search.
//
// Token records also get a key by owner ('o' owner \0 be64(seq), issue 16), so that an auditor's
// point-in-time list (projections/point_in_time.hpp) folds only that owner's records. A data
// directory written before that key existed lacks it for its old records: the first writable
// load back-fills it (backfill_owner_index) and then writes the marker key kOwnerIndexMarker in
// the same batch as the last entries. Without the marker the owner keys are neither used nor
// checked.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "domain/result.hpp"
#include "eventstore/event_log.hpp"

namespace tl {

inline constexpr std::size_t kDefaultAuditLimit = 100;
inline constexpr std::size_t kMaxAuditLimit = 1000;

// A window over the trail: half-open in time, [since, until), and in seq, (after_seq, head_seq].
// A bound given with sub-millisecond digits is rounded up to the millisecond (PreciseTime::ceil
// in common/time_format.hpp), which keeps both comparisons exactly what full precision gives.
struct AuditFilter {
  std::string token_id;
  std::string actor;
  std::string owner;                      // events on tokens this user owns (canonical), whoever acted
  std::string type;                       // one of known_event_types(), or empty for any
  std::optional<Timestamp> since;         // at >= since
  std::optional<Timestamp> until;         // at < until
  std::uint64_t after_seq = 0;            // seq > after_seq
  std::optional<std::uint64_t> head_seq;  // seq <= head_seq: an export bounded at a head
};

// Every event type the codec knows (domain/events.hpp), in the order of the Event variant.
const std::vector<std::string>& known_event_types();

struct AuditPage {
  std::vector<Record> events;
  std::optional<std::uint64_t> next_after_seq;
};

class AuditIndex final : public IndexWriter {
 public:
  static constexpr const char* kColumnFamily = "audit_index";

  explicit AuditIndex(EventLog& store) : store_(store) {}

  // The key saying the owner keys cover every record (it is no entry: no seq, empty value).
  static constexpr std::string_view kOwnerIndexMarker = "#owner-index-complete";

  void index(const Record& record, IndexBatch& batch) override;
  // The keys index() writes for `record` (by token when it has one, by actor, by owner when it has
  // one, by type), into `out` (cleared first); `with_owner` false leaves the owner key out (a
  // directory whose owner keys are not back-filled yet). The integrity check compares the stored
  // index with these.
  static void keys_of(const Record& record, std::vector<std::string>& out, bool with_owner = true);
  // The seq an index key points at (its last 8 bytes).
  static std::uint64_t seq_of_key(std::string_view key);
  // True for the owner keys ('o' owner \0 be64(seq)).
  static bool is_owner_key(std::string_view key) { return !key.empty() && key[0] == 'o'; }

  // True when the owner keys cover every record (the marker is there). Errors: unavailable.
  static Result<bool> owner_index_complete(const EventLog& store);
  // Writes the owner keys of every record and then the marker, unless the marker is there already
  // (one pass over the log, once per data directory). A store opened read-only cannot be written:
  // its error (unavailable) leaves the index as it was, and as_of folds the log as before.
  Status backfill_owner_index(const std::function<void(std::uint64_t)>& progress = {});
  // The records of `owner` with after_seq < seq <= last_seq, ascending, from the owner keys (the
  // caller checks owner_index_complete first), until `visit` returns false. The record passed is
  // reused.
  Status scan_owner(const std::string& owner, std::uint64_t after_seq, std::uint64_t last_seq,
                    const std::function<bool(const Record&)>& visit) const;

  // How many records of `owner` have after_seq < seq <= last_seq, counted from the owner keys
  // alone (no record is read). Errors: unavailable.
  static Result<std::uint64_t> count_owner_records(const StateStore& state, std::string_view owner,
                                                   std::uint64_t after_seq, std::uint64_t last_seq);

  // Ascending seq, at most `limit` records.
  Result<AuditPage> query(const AuditFilter& filter, std::size_t limit) const;
  // Every matching record in ascending seq, until `visit` returns false. The record passed is
  // reused between calls: copy what must outlive the call.
  Status scan(const AuditFilter& filter, const std::function<bool(const Record&)>& visit) const;

  // Drops the index and writes it again from seq 1.
  Status rebuild(const std::function<void(std::uint64_t)>& progress = {});
  // Every key of the index, for comparing a rebuilt index with a folded one.
  std::vector<std::string> dump() const;

 private:
  std::uint64_t first_seq_at_or_after(Timestamp t) const;
  Status rewrite_from_log(const std::string& erase_from, const std::string& erase_to,
                          const std::function<void(const Record&, IndexBatch&)>& keys_of_record,
                          const std::function<void(std::uint64_t)>& progress);
  // The records whose seqs the keys with `prefix` (one index, one value) name within [from, to],
  // read a batch at a time; `keep` filters them before `visit`.
  Status scan_entries(const std::string& prefix, std::uint64_t from, std::uint64_t to,
                      const std::function<bool(const Record&)>& keep,
                      const std::function<bool(const Record&)>& visit) const;

  EventLog& store_;
};

// The last seq whose record's time is at or before `t` (0 when none), by binary search over
// single records (O(log n) reads): the log's times never decrease along seq. Errors:
// unavailable or internal when a record cannot be read.
Result<std::uint64_t> last_seq_at_or_before(const EventLog& store, Timestamp t);

}  // namespace tl
