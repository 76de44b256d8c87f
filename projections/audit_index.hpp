// The audit index: for every record, keys by token, by actor and by type, written in the same
// batch as the record (an IndexWriter), so the index is never behind the log. Time ranges need
// no index: the log's times never decrease along seq, so a time bound is a seq bound, found
// by binary search.
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

  void index(const Record& record, IndexBatch& batch) override;
  // The keys index() writes for `record` (by token when it has one, by actor, by type), into `out`
  // (cleared first). The integrity check compares the stored index with these.
  static void keys_of(const Record& record, std::vector<std::string>& out);
  // The seq an index key points at (its last 8 bytes).
  static std::uint64_t seq_of_key(std::string_view key);

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

  EventLog& store_;
};

}  // namespace tl
