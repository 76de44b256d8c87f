// The integrity check of a data directory: everything derived from the log is checked against
// the log (DESIGN.md, "What keeps the record trustworthy"; issue 11).
//
// check_integrity() is the full check, shared by `tokenledger-admin verify --data`,
// GET /api/v1/audit/verify and the server's background scrub:
//   - the head marker the appender keeps in meta is the log's last record (no cut of the tail);
//   - every signed checkpoint: its Ed25519 signature (against the pinned key when given), the
//     chain of `prev`, and that the log reaches it and holds the hash it signed;
//   - every witnessed checkpoint (a witness file kept outside the data directory) the same way,
//     which also catches a cut after the newest checkpoint stored in the database;
//   - the projection checkpoint is not ahead of the log;
//   - the chain: seq from 1 without gaps, each record's SHA-256, each prev_hash link, strict decode;
//   - the streams and audit_index column families hold exactly the entries the records imply:
//     each record's entries are there, and there are no others (none pointing past the head);
//     the audit index's owner keys once they are back-filled (AuditIndex::kOwnerIndexMarker).
// check_at_start() is the cheap subset every start runs (see there).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "eventstore/event_log.hpp"
#include "eventstore/signed_checkpoints.hpp"

namespace tl {

struct IntegrityOptions {
  // Hex Ed25519 public key every checkpoint must be signed with; empty: the key each one names.
  std::string trusted_public_key;
  // Cross-check the stream and audit indexes entry by entry (`verify --quick` turns it off).
  bool indexes = true;
  // Checkpoints a witness received (read_witness_file); the log must reach and match each.
  std::vector<SignedCheckpoint> witnessed;
  std::function<void(std::uint64_t)> progress;  // seq reached, every 100,000 records
  // Called every 1024 records of the walk: may sleep (the scrub's throttle) or return false to stop.
  std::function<bool()> pause;
};

struct IntegrityReport {
  bool ok = true;
  bool stopped = false;  // pause() stopped the walk: the report covers only what was walked
  VerifyReport chain;    // the walk: events checked, last good head
  std::uint64_t first_bad_seq = 0;
  std::string kind;  // see VerifyReport::kind
  std::string problem;
  std::uint64_t checkpoints = 0;          // signed checkpoints verified
  std::uint64_t last_checkpoint_seq = 0;  // the newest of them
  std::uint64_t witnessed = 0;            // witnessed checkpoints matched
  std::uint64_t stream_entries = 0;       // counted when options.indexes
  std::uint64_t audit_entries = 0;
};

IntegrityReport check_integrity(const EventLog& store, const IntegrityOptions& options);

// The cheap checks of every start, before anything is served or written: the head marker; the
// newest signed checkpoint and every one signed after `verified_seq` (the newest checkpoint a
// previous start verified, remembered in meta by remember_verified_checkpoint), each with the
// one before it; every witnessed checkpoint; the projection checkpoint against the head. Reads a
// few records, not the log.
IntegrityReport check_at_start(const EventLog& store, const IntegrityOptions& options);

// The checks after an earlier one vouched for the log up to `base` (its seq and that record's
// hash: the last full check's head, or what the start-up walk reached): the record at base.seq
// still has that hash; the chain from it to the head with each record's stream and audit index
// entries (looked up one by one); and the cheap checks of check_at_start with every signed
// checkpoint from the newest at or before base.seq. O(records after base.seq + checkpoints
// signed since): what GET /api/v1/audit/verify walks between scrubs (issue 16). A record at or
// before base.seq changed since is not seen here (the next full check sees it). `chain.events`
// counts the records walked; stream_entries and audit_entries the entries looked up.
IntegrityReport check_since(const EventLog& store, const IntegrityOptions& options, const Head& base);

// The newest checkpoint seq a start verified (0: none), and remembering it.
std::uint64_t verified_checkpoint_seq(const EventLog& store);
Status remember_verified_checkpoint(EventLog& store, std::uint64_t seq);

}  // namespace tl
