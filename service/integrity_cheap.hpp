// The cheap part of the integrity check (integrity.hpp), shared by its three entry points: the
// head marker, the signed and witnessed checkpoints, the projection checkpoint and the audit
// index's newest entry per type, each against the head. A few reads, not the log. Internal to
// service/integrity*.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "eventstore/event_log.hpp"
#include "eventstore/signed_checkpoints.hpp"
#include "service/integrity.hpp"

namespace tl::integrity_detail {

// Marks the report failed at `seq` with `kind` and `problem`; returns false.
bool fail(IntegrityReport& r, std::uint64_t seq, std::string kind, std::string problem);

// Whether the log holds a record at `seq`, read from the store itself. An index entry or snapshot
// past a head read a moment ago is a record a live server appended meanwhile (the entries land with
// the records in one write, before the head in memory moves), which is no damage; one past the
// records the store holds is a cut.
bool holds_record(const EventLog& store, std::uint64_t seq);

// Every cheap check, each on its own, the signed checkpoints from index `first_checkpoint` of
// `checkpoints` on; the report names the problem with the lowest seq (on a tie, the first in this
// order), so that e.g. a rewrite below a checkpoint is blamed on the checkpoint it broke, not on the
// head marker it also changed. False on a problem.
bool check_cheap(const EventLog& store, const IntegrityOptions& o, std::size_t first_checkpoint,
                 const std::vector<SignedCheckpoint>& checkpoints, IntegrityReport& r);

}  // namespace tl::integrity_detail
