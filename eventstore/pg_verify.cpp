// The PostgreSQL log's chain check (EventLog::verify_from): the embedded log's rules
// (verify_walk.hpp) over keyset pages of tl_events, with each page's stream index rows.
#include <unordered_map>

#include "eventstore/pg_log_impl.hpp"
#include "eventstore/verify_walk.hpp"

namespace tl {

VerifyReport PgLog::verify(const std::function<void(std::uint64_t)>& progress) const {
  return verify_from(1, kGenesisHash, progress);
}

VerifyReport PgLog::verify_from(std::uint64_t from, const std::string& prev_hash,
                                const std::function<void(std::uint64_t)>& progress, const RecordCheck& also,
                                const std::function<bool()>& pause) const {
  VerifyWalk walk(from, prev_hash, progress, also, pause);
  auto conn = pool_.lease();
  if (!conn) return walk.fail(from, conn.error().message);
  for (;;) {
    const auto first = static_cast<std::int64_t>(walk.expected());
    auto page =
        (*conn)->exec("SELECT seq, record FROM tl_events WHERE seq >= $1 ORDER BY seq LIMIT " + std::to_string(kPgPage),
                      PgParams().int64(first));
    if (!page) return walk.fail(walk.expected(), page.error().message);
    if (page->rows() == 0) return walk.report();
    // The stream index rows that point into this page: seq -> (stream, version).
    auto index = (*conn)->exec("SELECT seq, stream, version FROM tl_streams WHERE seq >= $1 AND seq <= $2",
                               PgParams().int64(first).int64(page->int64(page->rows() - 1, 0)));
    if (!index) return walk.fail(walk.expected(), index.error().message);
    std::unordered_multimap<std::uint64_t, std::pair<std::string, std::uint64_t>> points_at;
    for (int i = 0; i < index->rows(); ++i) {
      points_at.emplace(static_cast<std::uint64_t>(index->int64(i, 0)),
                        std::pair{std::string(index->bytes(i, 1)), static_cast<std::uint64_t>(index->int64(i, 2))});
    }
    auto indexed = [&](const Record& record) {
      for (auto [it, end] = points_at.equal_range(walk.expected()); it != end; ++it) {
        if (it->second.first == record.stream && it->second.second == record.version) return true;
      }
      return false;
    };
    for (int i = 0; i < page->rows(); ++i) {
      if (!walk.step(static_cast<std::uint64_t>(page->int64(i, 0)), page->bytes(i, 1), indexed)) return walk.report();
    }
  }
}

}  // namespace tl
