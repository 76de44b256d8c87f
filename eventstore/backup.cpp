#include "eventstore/backup.hpp"

#include <rocksdb/rate_limiter.h>
#include <rocksdb/utilities/backup_engine.h>
#include <rocksdb/utilities/checkpoint.h>

#include <algorithm>
#include <filesystem>

#include "eventstore/event_store_impl.hpp"

namespace tl {

struct Backups::Impl {
  std::unique_ptr<rocksdb::BackupEngine> engine;             // writable opens
  std::unique_ptr<rocksdb::BackupEngineReadOnly> read_only;  // read-only opens
  // Every byte a writable open copies goes through it: it limits the rate (when asked) and counts
  // the bytes (GetTotalBytesThrough), which the progress callback cannot: RocksDB calls that at
  // most once per chunk and never for a file smaller than its interval.
  std::shared_ptr<rocksdb::RateLimiter> limiter;
};

Backups::Backups(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Backups::~Backups() = default;

Result<std::unique_ptr<Backups>> Backups::open(const std::string& dir, bool read_only, BackupTuning tuning) {
  auto impl = std::make_unique<Impl>();
  rocksdb::IOStatus io;
  rocksdb::BackupEngineOptions options(dir);
  // Without a limit, one so high it only counts: 1 TiB/s. The engine copies in chunks of one
  // refill period's bytes (GetSingleBurstBytes), so the period is 4 us: 4.4 MB chunks, about
  // RocksDB's own 5 MB (a 100 ms period would make it allocate a 110 GB buffer).
  constexpr std::int64_t kCountOnly = std::int64_t{1} << 40;
  impl->limiter.reset(tuning.rate_limit > 0
                          ? rocksdb::NewGenericRateLimiter(static_cast<std::int64_t>(tuning.rate_limit))
                          : rocksdb::NewGenericRateLimiter(kCountOnly, /*refill_period_us=*/4));
  options.backup_rate_limiter = impl->limiter;
  options.callback_trigger_interval_size = std::max<std::uint64_t>(tuning.progress_every, 1);
  if (read_only) {
    rocksdb::BackupEngineReadOnly* raw = nullptr;
    io = rocksdb::BackupEngineReadOnly::Open(rocksdb::Env::Default(), options, &raw);
    impl->read_only.reset(raw);
  } else {
    rocksdb::BackupEngine* raw = nullptr;
    io = rocksdb::BackupEngine::Open(rocksdb::Env::Default(), options, &raw);
    impl->engine.reset(raw);
  }
  if (!io.ok()) return Error::unavailable(io.ToString());
  return std::unique_ptr<Backups>(new Backups(std::move(impl)));
}

namespace {

// The checkpoint opened as a database of its own (every column family, default options as the
// store uses them), and closed with its handles.
struct Snapshot {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::vector<std::string> names;
  ~Snapshot() {
    for (auto* h : handles) {
      if (db) db->DestroyColumnFamilyHandle(h);
    }
  }
  rocksdb::ColumnFamilyHandle* family(std::string_view name) const {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return handles[i];
    }
    return nullptr;
  }
};

rocksdb::Status open_snapshot(const std::string& dir, Snapshot& snapshot) {
  rocksdb::Options options;
  options.create_if_missing = false;
  options.disable_auto_compactions = true;  // a copy to read once: no background work
  auto s = rocksdb::DB::ListColumnFamilies(options, dir, &snapshot.names);
  if (!s.ok()) return s;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : snapshot.names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions{});
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::Open(options, dir, descriptors, &snapshot.handles, &raw);
  snapshot.db.reset(raw);
  return s;
}

// The head the snapshot holds: the appender's head marker, written with every batch (a database
// without records has none: the empty head).
Result<Head> snapshot_head(const Snapshot& snapshot) {
  auto* meta = snapshot.family(side_store_name(SideStore::meta));
  if (meta == nullptr) return Head{};
  std::string marker;
  const auto s = snapshot.db->Get({}, meta, kHeadMarkerKey, &marker);
  if (s.IsNotFound()) return Head{};
  if (!s.ok()) return Error::unavailable("cannot read the head of the checkpoint: " + s.ToString());
  auto head = decode_head_marker(marker);
  if (!head) return Error::internal("the checkpoint's head marker is malformed");
  return *head;
}

// Removes the checkpoint directory however create() ends.
struct RemoveDir {
  std::string dir;
  ~RemoveDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

}  // namespace

Result<Backups::Created> Backups::create(EventStore& store, const std::string& scratch_dir,
                                         const std::function<std::string(const Head&)>& metadata,
                                         std::function<void()> progress) {
  if (!impl_->engine) return Error::internal("the backups were opened read-only");
  std::error_code ec;
  if (std::filesystem::exists(scratch_dir, ec)) {
    return Error::unavailable(scratch_dir + " exists (left by a backup that was cut short?); remove it");
  }
  rocksdb::Checkpoint* raw = nullptr;
  auto s = rocksdb::Checkpoint::Create(store.impl_->db.get(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  if (!s.ok()) return Error::unavailable("cannot make a checkpoint: " + s.ToString());
  RemoveDir remove{scratch_dir};
  // log_size_for_flush 0: the memtables are flushed first, so the WAL copied is (nearly) empty.
  s = checkpoint->CreateCheckpoint(scratch_dir, /*log_size_for_flush=*/0);
  if (!s.ok()) return Error::unavailable("cannot make a checkpoint in " + scratch_dir + ": " + s.ToString());

  Snapshot snapshot;
  if (s = open_snapshot(scratch_dir, snapshot); !s.ok()) {
    return Error::unavailable("cannot open the checkpoint in " + scratch_dir + ": " + s.ToString());
  }
  auto head = snapshot_head(snapshot);
  if (!head) return std::move(head).error();
  rocksdb::CreateBackupOptions options;
  options.flush_before_backup = true;  // the memtable goes into the backup as a table, not a WAL
  if (progress) options.progress_callback = std::move(progress);
  rocksdb::BackupID id = 0;
  const auto io = impl_->engine->CreateNewBackupWithMetadata(options, snapshot.db.get(), metadata(*head), &id);
  if (!io.ok()) return Error::unavailable(io.ToString());
  return Created{static_cast<std::uint32_t>(id), std::move(*head)};
}

std::uint64_t Backups::bytes_copied() const {
  return impl_->limiter ? static_cast<std::uint64_t>(impl_->limiter->GetTotalBytesThrough()) : 0;
}

void Backups::stop() {
  if (impl_->engine) impl_->engine->StopBackup();
}

Status Backups::remove(std::uint32_t id) {
  if (!impl_->engine) return Error::internal("the backups were opened read-only");
  const auto io = impl_->engine->DeleteBackup(id);
  if (!io.ok()) return Error::unavailable(io.ToString());
  return {};
}

Status Backups::verify(std::uint32_t id) {
  const auto io = impl_->engine ? impl_->engine->VerifyBackup(id, /*verify_with_checksum=*/true)
                                : impl_->read_only->VerifyBackup(id, /*verify_with_checksum=*/true);
  if (!io.ok()) return Error::unavailable(io.ToString());
  return {};
}

std::vector<BackupEntry> Backups::list() const {
  std::vector<rocksdb::BackupInfo> backups;
  if (impl_->engine) {
    impl_->engine->GetBackupInfo(&backups);
  } else {
    impl_->read_only->GetBackupInfo(&backups);
  }
  std::vector<BackupEntry> out;
  for (const auto& b : backups) out.push_back({b.backup_id, b.app_metadata, b.timestamp, b.size, b.number_files});
  return out;
}

Status Backups::restore(std::uint32_t id, const std::string& db_dir) {
  const auto io = impl_->engine ? impl_->engine->RestoreDBFromBackup(id, db_dir, db_dir)
                                : impl_->read_only->RestoreDBFromBackup(id, db_dir, db_dir);
  if (!io.ok()) return Error::unavailable(io.ToString());
  return {};
}

}  // namespace tl
