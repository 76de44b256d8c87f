#include "eventstore/backup.hpp"

#include <rocksdb/utilities/backup_engine.h>

#include "eventstore/event_store_impl.hpp"

namespace tl {

struct Backups::Impl {
  std::unique_ptr<rocksdb::BackupEngine> engine;             // writable opens
  std::unique_ptr<rocksdb::BackupEngineReadOnly> read_only;  // read-only opens
};

Backups::Backups(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Backups::~Backups() = default;

Result<std::unique_ptr<Backups>> Backups::open(const std::string& dir, bool read_only) {
  auto impl = std::make_unique<Impl>();
  rocksdb::IOStatus io;
  if (read_only) {
    rocksdb::BackupEngineReadOnly* raw = nullptr;
    io = rocksdb::BackupEngineReadOnly::Open(rocksdb::Env::Default(), rocksdb::BackupEngineOptions(dir), &raw);
    impl->read_only.reset(raw);
  } else {
    rocksdb::BackupEngine* raw = nullptr;
    io = rocksdb::BackupEngine::Open(rocksdb::Env::Default(), rocksdb::BackupEngineOptions(dir), &raw);
    impl->engine.reset(raw);
  }
  if (!io.ok()) return Error::unavailable(io.ToString());
  return std::unique_ptr<Backups>(new Backups(std::move(impl)));
}

Result<std::uint32_t> Backups::create(EventStore& store, const std::string& metadata) {
  if (!impl_->engine) return Error::internal("the backups were opened read-only");
  rocksdb::CreateBackupOptions options;
  options.flush_before_backup = true;  // the memtable goes into the backup as a table, not a WAL
  rocksdb::BackupID id = 0;
  const auto io = impl_->engine->CreateNewBackupWithMetadata(options, store.impl_->db.get(), metadata, &id);
  if (!io.ok()) return Error::unavailable(io.ToString());
  return static_cast<std::uint32_t>(id);
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
  for (const auto& b : backups) out.push_back({b.backup_id, b.app_metadata});
  return out;
}

Status Backups::restore(std::uint32_t id, const std::string& db_dir) {
  const auto io = impl_->engine ? impl_->engine->RestoreDBFromBackup(id, db_dir, db_dir)
                                : impl_->read_only->RestoreDBFromBackup(id, db_dir, db_dir);
  if (!io.ok()) return Error::unavailable(io.ToString());
  return {};
}

}  // namespace tl
