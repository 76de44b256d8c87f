#include "eventstore/shredder.hpp"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <spdlog/spdlog.h>

namespace tl {

Shredder::Shredder(rocksdb::DB& db, std::vector<rocksdb::ColumnFamilyHandle*> all,
                   std::vector<rocksdb::ColumnFamilyHandle*> secrets, std::chrono::seconds bound)
    : db_(db), all_(std::move(all)), secrets_(std::move(secrets)), delay_(bound / 2) {
  thread_ = std::thread([this] { run(); });
}

Shredder::~Shredder() {
  bool pending = false;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    pending = due_.has_value();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (pending) shred();
}

void Shredder::deleted() {
  {
    std::lock_guard lock(mutex_);
    // An earlier shred still to come covers this deletion too: it starts after this write.
    if (due_) return;
    due_ = std::chrono::steady_clock::now() + delay_;
  }
  cv_.notify_all();
}

void Shredder::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopping_) return;
    if (!due_) {
      cv_.wait(lock);
      continue;
    }
    if (cv_.wait_until(lock, *due_) != std::cv_status::timeout && std::chrono::steady_clock::now() < *due_) continue;
    due_.reset();
    lock.unlock();
    shred();
    lock.lock();
  }
}

void Shredder::shred() {
  const auto started = std::chrono::steady_clock::now();
  rocksdb::FlushOptions flush;
  flush.wait = true;
  flush.allow_write_stall = true;
  rocksdb::Status s = db_.Flush(flush, all_);
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  compact.exclusive_manual_compaction = false;
  for (auto* family : secrets_) {
    if (s.ok()) s = db_.CompactRange(compact, family, nullptr, nullptr);
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  if (!s.ok()) {
    // The values stay until the next shred or RocksDB's own compactions; say so, the log goes on.
    spdlog::error("shredding deleted keys failed after {} ms: {}", ms.count(), s.ToString());
    return;
  }
  spdlog::debug("deleted keys shredded (flush and compaction) in {} ms", ms.count());
}

}  // namespace tl
