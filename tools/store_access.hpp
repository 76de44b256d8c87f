// Opening the server's data directory: the layout (DIR/db, DIR/master.key,
// DIR/introspection.secret, DIR/signing.key), read-only opens that work beside a running
// server, and writable opens that refuse clearly when the server holds the database.
#pragma once

#include <memory>
#include <string>

#include "eventstore/event_store.hpp"

namespace tl::admin {

struct DataDir {
  std::string root;
  std::string db() const;
  std::string master_key() const;
  std::string introspection_secret() const;
  std::string signing_key() const;
};

enum class Access {
  read_only,        // beside a running server (RocksDB's read-only instance takes no lock)
  writable,         // needs the database to itself
  writable_create,  // the same, and creates DIR and an empty database when missing
};

// Opens the log, with the read model's column families unless `log_only` (read-only opens
// only: a read-only open replays the write-ahead log only into the families it opens, so the
// log alone opens much faster). Throws UsageError when DIR holds no database, Failure when it
// cannot be opened (naming a running server when it holds the lock). A writable open gives the
// database its id when it has none yet (eventstore/database_id.hpp).
std::unique_ptr<EventStore> open_store(const DataDir& data, Access access, bool log_only = false);

// True when another process holds RocksDB's lock on the database in `db_dir` (a server).
bool database_locked(const std::string& db_dir);

// The message for a writing command while the server runs.
std::string server_running_message(const DataDir& data);

}  // namespace tl::admin
