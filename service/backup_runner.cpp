#include "service/backup_runner.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>

namespace tl {
namespace {

Timestamp wall_clock_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

}  // namespace

std::optional<BackupRunner::Running> BackupRunner::running() const {
  std::lock_guard lock(mutex_);
  std::optional<Running> out = running_;
  if (out && current_ != nullptr) out->bytes_copied = current_->bytes_copied();
  return out;
}

BackupRunner::Slot::~Slot() {
  if (runner_ == nullptr) return;
  std::lock_guard lock(runner_->mutex_);
  runner_->running_.reset();
}

Result<BackupRunner::Slot> BackupRunner::claim() {
  std::lock_guard lock(mutex_);
  if (running_) {
    const auto since = std::chrono::duration_cast<std::chrono::seconds>(wall_clock_now() - running_->started);
    return Error::conflict("A backup is already running (since " + std::to_string(since.count()) +
                           " s); one runs at a time. Try again when it is done.");
  }
  running_.emplace(Running{wall_clock_now(), 0});
  return Slot(*this);
}

void BackupRunner::stop() {
  stopping_.store(true);
  std::lock_guard lock(mutex_);
  if (current_ != nullptr) current_->stop();
}

Result<BackupOutcome> BackupRunner::run(bool include_keys, std::string_view requested_by) {
  if (store_ == nullptr) {
    return Error::unavailable(
        "This server's log is in PostgreSQL, which is backed up by PostgreSQL (pg_basebackup, or its replicas).");
  }
  if (!configured()) {
    return Error::unavailable("Backups are not configured: start the server with --backup-dir DIR.");
  }
  if (stopping_.load()) return Error::unavailable("The server is stopping; no backup is taken.");
  auto slot = claim();
  if (!slot) return std::move(slot).error();

  const auto started = std::chrono::steady_clock::now();
  auto last_log = started;
  spdlog::info("backup into {} started by {} (keys {})", settings_.dir, requested_by,
               include_keys ? "included" : "left out");
  BackupRequest request;
  request.dir = settings_.dir;
  request.data_dir = settings_.data_dir;
  request.stop = &stopping_;
  request.attach = [this](Backups* engine) {
    std::lock_guard lock(mutex_);
    current_ = engine;
    if (engine != nullptr && stopping_.load()) engine->stop();  // stop() came before the engine
  };
  request.include_keys = include_keys;
  request.keys = settings_.keys;
  request.scratch_dir = settings_.scratch_dir;
  request.tuning = settings_.tuning;
  request.progress = [&](std::uint64_t bytes) {
    {
      std::lock_guard lock(mutex_);
      running_->bytes_copied = bytes;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_log < std::chrono::seconds(5)) return;
    last_log = now;
    spdlog::info("backup into {}: {} MiB copied in {} s", settings_.dir, bytes / (1024 * 1024),
                 std::chrono::duration_cast<std::chrono::seconds>(now - started).count());
  };
  // A checkpoint left by a backup cut short (a crash) is this server's own: only one runs.
  std::error_code ec;
  std::filesystem::remove_all(settings_.scratch_dir, ec);
  auto taken = take_backup(*store_, request);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!taken) {
    spdlog::error("backup into {} failed after {:.1f} s: {}", settings_.dir, seconds, taken.error().message);
    return taken;
  }
  spdlog::info("backup {} into {} done in {:.1f} s: head seq {}, {} bytes, checksums verified", taken->id,
               settings_.dir, seconds, taken->head.seq, taken->size);
  return taken;
}

Status BackupRunner::discard(std::uint32_t id) {
  auto slot = claim();  // one writer of the directory at a time
  if (!slot) return std::move(slot).error();
  auto engine = Backups::open(backup_engine_dir(settings_.dir), /*read_only=*/false);
  if (!engine) return std::move(engine).error();
  if (auto s = (*engine)->remove(id); !s) return s;
  spdlog::warn("backup {} in {} deleted: its BackupTaken could not be recorded", id, settings_.dir);
  return {};
}

Command<BackupOutcome> record_backup_taken(BackupOutcome taken, const RequestContext& ctx) {
  auto decide = [taken = std::move(taken), ctx]() -> Result<Plan<BackupOutcome>> {
    AppendRequest append{
        .stream = std::string(kBackupStream),
        .expected_version = kAnyVersion,
        .events = {BackupTaken{std::to_string(taken.id), taken.head.seq, taken.head.hash, taken.include_keys}},
        .actor = ctx.actor,
        .source = ctx.source};
    return Plan<BackupOutcome>{std::move(append), [taken] { return done<BackupOutcome>(taken); }};
  };
  return {std::move(decide), "The backup log is busy; try again."};
}

}  // namespace tl
