// The owner snapshots (owner_snapshots.hpp) compared with the log, record by record, during the
// integrity check's walk (service/integrity.hpp): a snapshot must hold exactly the owner's rows
// that folding the log up to its seq gives, at a record of that owner, and none may be past the
// head; and every record of a token must name that token's owner (else an as_of list, which folds
// the records naming the owner, and the snapshots would differ). A snapshot altered to hide or change a token in an
// auditor's point-in-time list is named at its seq.
//
// Folds its own token table: memory like the server's table while the check runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "domain/result.hpp"
#include "eventstore/event_log.hpp"
#include "projections/token_table.hpp"

namespace tl {

class OwnerSnapshotCheck {
 public:
  // Reads the keys of every snapshot (one pass over them). Errors: unavailable; internal for a
  // key of the snapshots' prefix that is not a snapshot key.
  static Result<std::unique_ptr<OwnerSnapshotCheck>> load(const EventLog& store);

  std::size_t snapshots() const { return at_.size(); }
  // The seq of the first snapshot past `head` (0: none).
  std::uint64_t first_past(std::uint64_t head) const;
  // Folds `record` (records must come in seq order from 1) and compares the snapshots at its
  // seq: the problem, or "" when they match.
  std::string check(const Record& record);

 private:
  explicit OwnerSnapshotCheck(const EventLog& store) : store_(store) {}

  const EventLog& store_;
  std::vector<std::pair<std::uint64_t, std::string>> at_;  // (seq, owner), ascending
  std::size_t next_ = 0;
  TokenTable table_;
};

}  // namespace tl
