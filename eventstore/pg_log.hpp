// The event log on PostgreSQL (issue 19): the same records byte for byte as the embedded RocksDB
// log (the same canonical bytes, hash chain and gap-free seq from 1), in tables of a PostgreSQL
// database that synchronous replication keeps on more than one machine.
//
// Tables (schema version 1, created and migrated at open): tl_events (seq, record bytes),
// tl_streams (stream, version -> seq), tl_kv (the side stores and the projections' state
// families: family, key -> value), tl_head (the one-row head: seq, hash, time), tl_appends (each
// committed batch's idempotency key). One appender thread per process takes every waiting append
// into one transaction that first locks the head row (SELECT … FOR UPDATE), so appends from any
// number of processes are serialized and the chain is built in commit order; records, stream
// index, index entries, side writes and the new head commit together, or nothing does.
//
// Durability: every connection runs with synchronous_commit = on, and an append is refused
// (unavailable, nothing written) while the server's synchronous_standby_names is empty, unless
// allow_async (one development instance). A COMMIT is never cancelled; one whose outcome is
// unknown (the connection broke) is resolved by looking its batch's key up in tl_appends once a
// connection is back; one that returns the warning "committed locally, but might not have been
// replicated" is not acknowledged (unavailable) although its records stand in the primary's log.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "domain/result.hpp"
#include "eventstore/event_log.hpp"

namespace tl {

struct PgLogOptions {
  std::string url;  // a libpq connection URI (postgresql://…) or keyword string
  bool read_only = false;
  bool allow_async = false;  // --pg-allow-async: append without a synchronous standby
  // How long an append whose COMMIT outcome is unknown keeps trying to reach the database to
  // learn it before it is answered unavailable (outcome unknown).
  std::chrono::seconds resolve_for{30};
};

// Connects, creates or migrates the schema (a writable open), and reads the head. Errors:
// unavailable when PostgreSQL cannot be reached; internal when the schema is newer than this
// program's or the head row does not match the last record (see EventLog::head_marker).
Result<std::unique_ptr<EventLog>> open_pg_log(const PgLogOptions& options);

// True for a --log value that names PostgreSQL (postgresql:// or postgres://).
bool is_pg_url(std::string_view log);

}  // namespace tl
