// Bounded crypto-shredding (issue 12): a token's data key is deleted from the "keys" column family
// in the batch of its TokenDeleted, but RocksDB keeps the old value until the write-ahead log that
// holds the put is obsolete and every table file holding it is compacted away. The shredder makes
// that happen within a bound: after a deletion it flushes every column family (the WAL files
// before the flush become obsolete and, with WAL archiving off, are deleted) and compacts the
// secret column families to the bottommost level (the tombstone and the value it hides are
// dropped, the old table files deleted).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace tl {

class Shredder {
 public:
  // `all`: every column family of `db` (flushed); `secrets`: those compacted ("keys",
  // "credentials"). A shred starts half of `bound` after the first deletion it covers, so that
  // deletions in a burst share one, and it has the other half to finish.
  Shredder(rocksdb::DB& db, std::vector<rocksdb::ColumnFamilyHandle*> all,
           std::vector<rocksdb::ColumnFamilyHandle*> secrets, std::chrono::seconds bound);
  // Runs a pending shred now (a stop within the bound still shreds), then stops the thread.
  ~Shredder();
  Shredder(const Shredder&) = delete;
  Shredder& operator=(const Shredder&) = delete;

  // A secret was deleted by a committed write: shred within the bound.
  void deleted();

 private:
  void run();
  void shred();

  rocksdb::DB& db_;
  std::vector<rocksdb::ColumnFamilyHandle*> all_;
  std::vector<rocksdb::ColumnFamilyHandle*> secrets_;
  std::chrono::steady_clock::duration delay_;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::optional<std::chrono::steady_clock::time_point> due_;  // guarded by mutex_
  bool stopping_ = false;                                     // guarded by mutex_
  std::thread thread_;
};

}  // namespace tl
