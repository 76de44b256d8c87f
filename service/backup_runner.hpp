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

#include "domain/time.hpp"
#include "service/backups.hpp"
#include "service/command.hpp"
#include "service/request_context.hpp"

namespace tl {

// The stream BackupTaken events are appended to.
inline constexpr std::string_view kBackupStream = "system:backups";

struct BackupSettings {
  std::string dir;          // --backup-dir; empty: backups are not configured
  KeyFilePaths keys;        // the server's key files, copied when a backup includes them
  std::string scratch_dir;  // DATA/backup-checkpoint.tmp (the checkpoint, beside the database)
  BackupTuning tuning;      // --backup-rate-limit
};

class BackupRunner {
 public:
  BackupRunner(EventStore& store, BackupSettings settings) : store_(store), settings_(std::move(settings)) {}

  bool configured() const { return !settings_.dir.empty(); }
  const std::string& dir() const { return settings_.dir; }

  // Takes a backup (take_backup) on the calling thread, which it holds for the whole copy (the
  // server calls it on its worker pool, never on an I/O thread); logs the start, progress (at most
  // every 5 s) and the end. Errors: unavailable when not configured (naming --backup-dir) and as
  // take_backup; conflict when another backup is running (naming when it started).
  Result<BackupOutcome> run(bool include_keys);

  struct Running {
    Timestamp started{};
    std::uint64_t bytes_copied = 0;  // roughly: counted every BackupTuning::progress_every bytes
  };
  // The backup in progress, if any.
  std::optional<Running> running() const;

 private:
  EventStore& store_;
  BackupSettings settings_;
  mutable std::mutex mutex_;  // guards running_
  std::optional<Running> running_;
};

// The audited record of `taken`: BackupTaken on kBackupStream with `ctx`'s actor and source;
// the command's result is `taken` itself.
Command<BackupOutcome> record_backup_taken(BackupOutcome taken, const RequestContext& ctx);

}  // namespace tl
