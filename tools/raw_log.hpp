// The events column family read straight from RocksDB, without EventStore: for a log too
// damaged for the store to open (EventStore::open decodes the last record and fails on it).
#pragma once

#include <optional>
#include <string>

#include "eventstore/event_store.hpp"

namespace tl::admin {

// Why the last record of the log in `db_dir` cannot be decoded; nullopt when it can (or when
// the database cannot be opened at all, which EventStore::open then reports).
std::optional<std::string> last_record_problem(const std::string& db_dir);

// Walks every record from seq 1 like EventStore::verify, except the stream index; nullopt when
// the database cannot be opened.
std::optional<VerifyReport> verify_raw(const std::string& db_dir);

}  // namespace tl::admin
