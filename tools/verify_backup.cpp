// verify --backup: a backup directory's newest (or chosen) backup, checked as a restore would
// use it: the engine's checksums, then the restored copy with the same full check as
// `verify --data` (service/integrity.hpp), in a temporary directory removed afterwards.
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "common/json_writer.hpp"
#include "service/backups.hpp"
#include "service/integrity.hpp"
#include "service/verify_report.hpp"
#include "tools/backup_over_http.hpp"
#include "tools/checkpoint_check.hpp"
#include "tools/store_access.hpp"

namespace tl::admin {
namespace {

namespace fs = std::filesystem;

// A fresh 0700 directory under `parent`, removed with what it holds when this goes.
class TempDir {
 public:
  explicit TempDir(const fs::path& parent) {
    std::string pattern = (parent / "tokenledger-verify-backup-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw Failure("cannot make a temporary directory under " + parent.string());
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

const BackupListing& choose(const std::vector<BackupListing>& backups, std::optional<std::uint32_t> id,
                            const std::string& dir) {
  if (backups.empty()) throw Failure("no backups in " + dir, ErrorKind::not_found);
  if (!id) return backups.back();
  for (const auto& b : backups) {
    if (b.entry.id == *id) return b;
  }
  throw Failure("there is no backup " + std::to_string(*id) + " in " + dir, ErrorKind::not_found);
}

}  // namespace

int verify_backup(const std::string& backup_dir, std::optional<std::uint32_t> id, const std::string& public_key,
                  const std::string& scratch, bool json) {
  auto listed = list_backups(backup_dir);
  // As restore: a directory without backups (or that cannot be read) is one that cannot be opened.
  if (!listed) throw UsageError(listed.error().message, ErrorKind::cannot_open);
  const BackupListing& chosen = choose(*listed, id, backup_dir);
  auto engine = Backups::open(backup_engine_dir(backup_dir), /*read_only=*/true);
  if (!engine) throw Failure("cannot open the backups in " + backup_dir + ": " + engine.error().message);
  const Status checksums = (*engine)->verify(chosen.entry.id);

  IntegrityReport report;
  TrustedKey key;
  bool same_head = false;
  if (checksums) {
    TempDir temp(scratch.empty() ? fs::temp_directory_path() : fs::path(scratch));
    const DataDir copy{temp.path().string()};
    if (auto restored = (*engine)->restore(chosen.entry.id, copy.db()); !restored) {
      throw Failure("cannot restore backup " + std::to_string(chosen.entry.id) +
                    " to check it: " + restored.error().message);
    }
    // The backup's own signing key, when it holds one, names the key; --public-key pins another.
    key = trusted_key(public_key, (fs::path(backup_dir) / "signing.key").string());
    auto store = open_store(copy, Access::read_only);
    IntegrityOptions options;
    options.trusted_public_key = key.hex;
    report = check_integrity(*store, options);
    store->close();
    same_head = chosen.metadata && chosen.metadata->head.seq == report.chain.head.seq &&
                chosen.metadata->head.hash == report.chain.head.hash;
  }
  const bool ok = checksums && report.ok && same_head;
  const std::string recorded =
      chosen.metadata ? std::to_string(chosen.metadata->head.seq) + " " + chosen.metadata->head.hash : "-";
  if (json) {
    JsonWriter w;
    w.begin_object().key("ok").value(ok).key("backup_dir").value(backup_dir);
    w.key("backup_id").value(static_cast<std::uint64_t>(chosen.entry.id)).key("checksums_ok").value(checksums.ok());
    if (!checksums) w.key("problem").value(checksums.error().message);
    w.key("same_head").value(same_head).key("recorded_head");
    if (chosen.metadata) {
      w.begin_object().key("seq").value(chosen.metadata->head.seq).key("hash").value(chosen.metadata->head.hash);
      w.end_object();
    } else {
      w.null();
    }
    if (checksums) w.key("verify").raw(integrity_report_json(report, key.hex, /*indexes_checked=*/true));
    w.end_object();
    std::string text = std::move(w).str();
    if (!ok) {  // one object: the report with the error every --json failure carries
      const std::string why = !checksums   ? "the backup's checksums do not match: " + checksums.error().message
                              : !report.ok ? "the restored copy fails the check: " + report.problem
                                           : "the restored copy's head is not the one the backup recorded";
      text = with_error(std::move(text), ErrorKind::check_failed, why);
    }
    std::cout << text << "\n";
    return ok ? kExitOk : kExitFinding;
  }
  std::cout << (ok ? "OK: backup " : "FAILED: backup ") << chosen.entry.id << " in " << backup_dir
            << (ok ? " verifies.\n" : " does not verify.\n") << "  checksums    "
            << (checksums ? "ok (every file read back)" : "FAILED: " + checksums.error().message) << "\n";
  if (checksums) {
    std::cout << "  verify       "
              << (report.ok ? "ok (chain, indexes, " + std::to_string(report.checkpoints) + " signed checkpoints)"
                            : "FAILED at seq " + std::to_string(report.first_bad_seq) + " (" + report.kind +
                                  "): " + report.problem)
              << "\n  head seq     " << report.chain.head.seq << "\n  head hash    " << report.chain.head.hash
              << (same_head ? " (the head the backup recorded)" : " (the backup recorded " + recorded + ")") << "\n";
  }
  return ok ? kExitOk : kExitFinding;
}

}  // namespace tl::admin
