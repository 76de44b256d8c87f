// Who holds a database open: RocksDB takes an fcntl write lock on DIR/LOCK for as long as a
// writable instance is open, and fcntl(F_GETLK) names the holding process. No pid file is
// needed, and a crash cannot leave a stale one: a dead process holds no lock.
#pragma once

#include <optional>
#include <string>

#include "domain/result.hpp"

namespace tl {

struct LockHolder {
  long pid = 0;
  std::string name;  // /proc/PID/comm ("tokenledger", "tokenledger-adm": the kernel keeps 15 bytes); "" if unknown
};

// The process holding the lock on the RocksDB database in `db_dir`, or nullopt when none does,
// DIR/LOCK does not exist or cannot be read. A lock held by this process is not seen (F_GETLK).
std::optional<LockHolder> lock_holder(const std::string& db_dir);

// The process holding an fcntl lock on `file` that a write lock would conflict with (a read or a
// write lock), or nullopt when none does or the file does not exist.
std::optional<LockHolder> file_lock_holder(const std::string& file);

// DATA/read-only.lock: a --read-only server holds a shared (read) fcntl lock on it while it
// serves, since its RocksDB open takes no lock; writers (a writable server, the admin tool's
// writing commands) refuse while anyone holds it, as they refuse beside a writable server.
std::string read_only_lock_file(const std::string& data_dir);

// Holds a shared fcntl lock on a file (created 0600 when missing) for its lifetime; the kernel
// lets it go when the process ends, so it cannot go stale.
class SharedFileLock {
 public:
  // Errors: unavailable naming the file (it cannot be opened or locked).
  static Result<SharedFileLock> take(const std::string& file);
  SharedFileLock(SharedFileLock&& other) noexcept;
  SharedFileLock& operator=(SharedFileLock&&) = delete;
  SharedFileLock(const SharedFileLock&) = delete;
  ~SharedFileLock();

 private:
  explicit SharedFileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// In plain words, for a data directory `data_dir` whose database `holder` holds:
// "tokenledger is serving DIR (pid N)", "tokenledger-admin is using DIR (pid N)", or
// "process NAME (pid N) holds the database in DIR"; with `read_only` (the holder of
// read_only_lock_file) "a --read-only tokenledger is serving DIR (pid N)".
std::string describe_lock_holder(const std::string& data_dir, const LockHolder& holder, bool read_only = false);

}  // namespace tl
