// The log's records read raw (eventstore/raw_events.hpp), without EventStore: for a log the
// store will not open.
#pragma once

#include <optional>
#include <string>

#include "eventstore/event_store.hpp"

namespace tl::admin {

// Walks every record from seq 1 like EventStore::verify, except the stream index; nullopt when
// the database cannot be opened.
std::optional<VerifyReport> verify_raw(const std::string& db_dir);

}  // namespace tl::admin
