// Backups of the embedded log's database (RocksDB's BackupEngine: consistent, incremental,
// checksummed), for the admin tool's backup and restore. A backup directory holds numbered
// backups, each with a string of metadata the caller chose.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "domain/result.hpp"
#include "eventstore/event_store.hpp"

namespace tl {

struct BackupEntry {
  std::uint32_t id = 0;
  std::string metadata;
};

class Backups {
 public:
  // Opens (creating when missing, unless read-only) the backups in `dir`. Errors: unavailable
  // with the engine's reason alone (the caller names the directory).
  static Result<std::unique_ptr<Backups>> open(const std::string& dir, bool read_only);
  ~Backups();
  Backups(const Backups&) = delete;
  Backups& operator=(const Backups&) = delete;

  // A new backup of `store` (its memtables flushed first, so no write-ahead log is needed) with
  // `metadata`; returns its id. Writable opens only. Errors: unavailable with the reason.
  Result<std::uint32_t> create(EventStore& store, const std::string& metadata);
  // Reads every file of backup `id` back against its checksums. Errors: unavailable.
  Status verify(std::uint32_t id);
  // Every backup, oldest first.
  std::vector<BackupEntry> list() const;
  // Writes backup `id` into the database directory `db_dir` (its WAL too). Errors: unavailable.
  Status restore(std::uint32_t id, const std::string& db_dir);

 private:
  struct Impl;
  explicit Backups(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tl
