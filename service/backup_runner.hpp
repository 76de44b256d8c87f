// The server's backups (POST /api/v1/admin/backups): one at a time, into the --backup-dir the
// operator configured, with progress in the log, and the audited BackupTaken appended once a
// backup is written and verified.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "domain/time.hpp"
#include "service/backups.hpp"
#include "service/command.hpp"
#include "service/request_context.hpp"

namespace tl {

// The stream BackupTaken events are appended to.
inline constexpr std::string_view kBackupStream = "system:backups";

struct BackupSettings {
  std::string dir;          // --backup-dir; empty: backups are not configured
  std::string data_dir;     // --data (a backup directory may not be in it, nor hold it)
  KeyFilePaths keys;        // the server's key files, copied when a backup includes them
  std::string scratch_dir;  // DATA/backup-checkpoint.tmp (the checkpoint, beside the database)
  BackupTuning tuning;      // --backup-rate-limit
};

class BackupRunner {
 public:
  // `store`: the embedded log, or null for a log that is not one (PostgreSQL backs itself up).
  BackupRunner(EventStore* store, BackupSettings settings) : store_(store), settings_(std::move(settings)) {}

  bool configured() const { return !settings_.dir.empty(); }
  const std::string& dir() const { return settings_.dir; }

  // Takes a backup (take_backup) on the calling thread, which it holds for the whole copy (the
  // server calls it on its worker pool, never on an I/O thread); logs the start, progress (at most
  // every 5 s) and the end. Errors: unavailable when not configured (naming --backup-dir) and as
  // take_backup; conflict when another backup is running (naming when it started); unavailable
  // once stop() was called. `requested_by` (a user name) is for the log lines.
  Result<BackupOutcome> run(bool include_keys, std::string_view requested_by);

  struct Running {
    Timestamp started{};
    std::uint64_t bytes_copied = 0;  // roughly: counted every BackupTuning::progress_every bytes
  };
  // The backup in progress, if any.
  std::optional<Running> running() const;

  // The server is stopping: a running backup stops within a chunk of its copy and fails, and
  // later calls of run() are refused (unavailable). Safe from any thread.
  void stop();

  // Deletes backup `id` from the backup directory: one whose BackupTaken could not be appended,
  // so that every backup there is in the audit trail. Errors: as Backups::remove.
  Status discard(std::uint32_t id);

 private:
  // The one backup (or discard) that may use the directory now: held while it runs.
  class Slot {
   public:
    explicit Slot(BackupRunner& runner) : runner_(&runner) {}
    Slot(Slot&& other) noexcept : runner_(std::exchange(other.runner_, nullptr)) {}
    Slot& operator=(Slot&&) = delete;
    ~Slot();

   private:
    BackupRunner* runner_;
  };
  // The slot, or conflict naming since when another backup runs.
  Result<Slot> claim();

  EventStore* store_;
  BackupSettings settings_;
  mutable std::mutex mutex_;  // guards running_ and current_
  std::optional<Running> running_;
  Backups* current_ = nullptr;  // the engine copying now (BackupRequest::attach), else null
  std::atomic<bool> stopping_{false};
};

// The audited record of `taken`: BackupTaken on kBackupStream with `ctx`'s actor and source;
// the command's result is `taken` itself.
Command<BackupOutcome> record_backup_taken(BackupOutcome taken, const RequestContext& ctx);

}  // namespace tl
