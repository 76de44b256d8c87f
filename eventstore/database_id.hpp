// A data directory's identity: a random id kept in the database itself (the `meta` column family,
// key "database_id"), so that backups, restores and copies can tell one database from another
// without comparing secrets. A restored database keeps its id; a fresh one gets a new one.
#pragma once

#include <optional>
#include <string>

#include "domain/result.hpp"
#include "eventstore/event_log.hpp"

namespace tl {

// The id: 16 random bytes (libsodium randombytes_buf) as 32 lowercase hex digits.
// Returns the stored id, or creates one (a synced write) when there is none yet. Needs a writable
// store. Errors: unavailable when the store cannot read or write it; internal when the stored value
// is not 32 lowercase hex digits (the database was altered).
Result<std::string> ensure_database_id(EventLog& store);

// The stored id, nullopt when the database has none yet (made before ids, or never opened
// writable since). Works on a read-only store. Errors as ensure_database_id.
Result<std::optional<std::string>> read_database_id(const EventLog& store);

}  // namespace tl
