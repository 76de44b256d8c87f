// Backups of the embedded log's database (RocksDB's BackupEngine: consistent, incremental,
// checksummed), for the admin tool's backup and restore. A backup directory holds numbered
// backups, each with a string of metadata the caller chose.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "domain/result.hpp"
#include "eventstore/event_store.hpp"

namespace tl {

struct BackupEntry {
  std::uint32_t id = 0;
  std::string metadata;
  std::int64_t created_unix = 0;  // seconds since the Unix epoch, the engine's clock
  std::uint64_t size = 0;         // bytes of every file the backup needs (shared ones included)
  std::uint32_t files = 0;
};

// How a writable open copies: at most `rate_limit` bytes a second (0: no limit), and a progress
// call about every `progress_every` bytes copied (RocksDB calls it at most once per chunk it
// copies, and not for files smaller than that: bytes_copied() is the count to show).
struct BackupTuning {
  std::uint64_t rate_limit = 0;
  std::uint64_t progress_every = 64ull * 1024;
};

class Backups {
 public:
  // Opens (creating when missing, unless read-only) the backups in `dir`. Errors: unavailable
  // with the engine's reason alone (the caller names the directory).
  static Result<std::unique_ptr<Backups>> open(const std::string& dir, bool read_only, BackupTuning tuning = {});
  ~Backups();
  Backups(const Backups&) = delete;
  Backups& operator=(const Backups&) = delete;

  // A new backup of `store`, consistent while it is being written to: a RocksDB checkpoint of it
  // (flushed, hard-linked: milliseconds) is made in `scratch_dir` (a path that must not exist, on
  // the database's file system), its head read from it, and the backup copied from that
  // checkpoint with the metadata `metadata(head)`; the checkpoint is removed afterwards. So the
  // head returned is exactly the one the backup holds, however many appends ran meanwhile.
  // Writable opens only. `progress` (when set) is called on the copying thread every
  // BackupTuning::progress_every bytes; it must not throw. Errors: unavailable with the reason.
  struct Created {
    std::uint32_t id = 0;
    Head head;
  };
  Result<Created> create(EventStore& store, const std::string& scratch_dir,
                         const std::function<std::string(const Head&)>& metadata,
                         std::function<void()> progress = nullptr);
  // Reads every file of backup `id` back against its checksums. Errors: unavailable.
  Status verify(std::uint32_t id);
  // Every backup, oldest first.
  std::vector<BackupEntry> list() const;
  // Writes backup `id` into the database directory `db_dir` (its WAL too). Errors: unavailable.
  Status restore(std::uint32_t id, const std::string& db_dir);
  // Asks a create() running on another thread (or this one, from its progress call) to stop as
  // soon as it can; it then fails (unavailable) and its partial files are removed by the next
  // writable open's create. Writable opens only; safe from any thread.
  void stop();
  // The bytes this open's create() calls have copied so far. Safe from any thread.
  std::uint64_t bytes_copied() const;
  // Deletes backup `id` and the files only it needed. Writable opens only. Errors: unavailable.
  Status remove(std::uint32_t id);

 private:
  struct Impl;
  explicit Backups(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tl
