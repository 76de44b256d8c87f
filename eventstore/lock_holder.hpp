// Who holds a database open: RocksDB takes an fcntl write lock on DIR/LOCK for as long as a
// writable instance is open, and fcntl(F_GETLK) names the holding process. No pid file is
// needed, and a crash cannot leave a stale one: a dead process holds no lock.
#pragma once

#include <optional>
#include <string>

namespace tl {

struct LockHolder {
  long pid = 0;
  std::string name;  // /proc/PID/comm ("tokenledger", "tokenledger-adm": the kernel keeps 15 bytes); "" if unknown
};

// The process holding the lock on the RocksDB database in `db_dir`, or nullopt when none does,
// DIR/LOCK does not exist or cannot be read. A lock held by this process is not seen (F_GETLK).
std::optional<LockHolder> lock_holder(const std::string& db_dir);

// In plain words, for a data directory `data_dir` whose database `holder` holds:
// "tokenledger is serving DIR (pid N)", "tokenledger-admin is using DIR (pid N)", or
// "process NAME (pid N) holds the database in DIR".
std::string describe_lock_holder(const std::string& data_dir, const LockHolder& holder);

}  // namespace tl
