// backup and restore: RocksDB's BackupEngine for the database (consistent, incremental,
// checksummed), plus copies of the key files, which are not in the database.
#include <rocksdb/db.h>
#include <rocksdb/utilities/backup_engine.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "eventstore/json_writer.hpp"
#include "eventstore/signed_checkpoints.hpp"
#include "tools/checkpoint_check.hpp"
#include "tools/cli.hpp"
#include "tools/commands.hpp"
#include "tools/store_access.hpp"

namespace tl::admin {
namespace {

namespace fs = std::filesystem;

constexpr const char* kKeyFiles[] = {"master.key", "introspection.secret", "signing.key"};

std::string engine_dir(const std::string& backup_dir) { return (fs::path(backup_dir) / "rocksdb").string(); }

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Copies the key files that exist from `from` to `to` with mode 0600; returns their names.
std::vector<std::string> copy_key_files(const fs::path& from, const fs::path& to) {
  std::vector<std::string> copied;
  for (const char* name : kKeyFiles) {
    std::error_code ec;
    if (!fs::exists(from / name, ec)) continue;
    fs::copy_file(from / name, to / name, fs::copy_options::overwrite_existing, ec);
    if (ec) throw Failure("cannot copy " + (from / name).string() + " to " + to.string() + ": " + ec.message());
    fs::permissions(to / name, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace, ec);
    if (ec) throw Failure("cannot make " + (to / name).string() + " owner-only: " + ec.message());
    copied.emplace_back(name);
  }
  return copied;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

// The head at the moment of the backup, kept in the backup's metadata: "seq HASH".
std::string head_metadata(const Head& head) { return std::to_string(head.seq) + " " + head.hash; }

void make_private_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Failure("cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
}

}  // namespace

int cmd_backup(int argc, char** argv) {
  std::string data, to;
  bool json = false;
  Command cmd("backup", "[--data DIR] --to BACKUP_DIR [--json]",
              "Writes a consistent backup of the data directory into BACKUP_DIR (created 0700):\n"
              "  - the RocksDB database, with RocksDB's BackupEngine (BACKUP_DIR/rocksdb: incremental,\n"
              "    checksummed, one numbered backup per run, each with the head seq and hash it holds);\n"
              "  - copies of DIR/master.key, DIR/introspection.secret and DIR/signing.key (the key that\n"
              "    signs checkpoints), mode 0600. The master key is needed to show token codes again:\n"
              "    keep BACKUP_DIR as secret as the data directory (it is created owner-only).\n"
              "A BACKUP_DIR holds the backups of one data directory only (its master.key must match).\n"
              "Needs the database to itself: stop the server first.");
  cmd.data_option(data).json_option(json);
  cmd.options()("to", po::value(&to)->value_name("BACKUP_DIR")->required(), "where the backups are kept");
  cmd.epilog("Restore with: tokenledger-admin restore --from BACKUP_DIR --data NEW_DIR");
  if (!cmd.parse(argc, argv)) return kExitOk;
  ::umask(077);  // the backup holds password hashes and the master key: owner-only, as the data directory
  const DataDir source{data};
  const fs::path target(to);
  std::error_code ec;
  if (fs::exists(target / "master.key", ec) && fs::exists(source.master_key(), ec) &&
      read_all(target / "master.key") != read_all(source.master_key())) {
    throw Failure(to + " holds backups of another data directory (its master.key differs); choose another --to");
  }

  auto store = open_store(source, Access::writable);
  const Head head = store->head();
  make_private_dir(target);
  rocksdb::BackupEngine* raw_engine = nullptr;
  auto io =
      rocksdb::BackupEngine::Open(rocksdb::Env::Default(), rocksdb::BackupEngineOptions(engine_dir(to)), &raw_engine);
  if (!io.ok()) throw Failure("cannot open the backup directory " + engine_dir(to) + ": " + io.ToString());
  std::unique_ptr<rocksdb::BackupEngine> engine(raw_engine);
  rocksdb::CreateBackupOptions options;
  options.flush_before_backup = true;  // the memtable goes into the backup as a table, not a WAL
  rocksdb::BackupID id = 0;
  io = engine->CreateNewBackupWithMetadata(options, &store->db(), head_metadata(head), &id);
  if (!io.ok()) throw Failure("the backup failed: " + io.ToString());
  io = engine->VerifyBackup(id, /*verify_with_checksum=*/true);
  if (!io.ok()) throw Failure("backup " + std::to_string(id) + " does not verify: " + io.ToString());
  store->close();
  const auto copied = copy_key_files(source.root, target);

  if (json) {
    JsonWriter w;
    w.begin_object().key("backup_id").value(static_cast<std::uint64_t>(id)).key("to").value(to);
    w.key("head").begin_object().key("seq").value(head.seq).key("hash").value(head.hash).end_object();
    w.key("key_files").begin_array();
    for (const auto& name : copied) w.value(name);
    w.end_array().end_object();
    std::cout << std::move(w).str() << "\n";
  } else {
    std::cout << "Backup " << id << " of " << data << " written to " << to << " (checksums verified).\n"
              << "  head seq     " << head.seq << "\n"
              << "  head hash    " << head.hash << "\n"
              << "  key files    " << join(copied) << " (mode 0600)\n";
  }
  for (const char* name : kKeyFiles) {
    if (std::find(copied.begin(), copied.end(), name) == copied.end()) {
      std::cerr << "note: " << (fs::path(data) / name).string() << " does not exist, so it is not in the backup\n";
    }
  }
  return kExitOk;
}

int cmd_restore(int argc, char** argv) {
  std::string data, from;
  std::uint32_t backup_id = 0;
  bool json = false;
  Command cmd("restore", "--from BACKUP_DIR --data DIR [--backup-id N] [--json]",
              "Restores a backup written by `tokenledger-admin backup` into DIR, which must be new or\n"
              "empty: the RocksDB database into DIR/db, and master.key, introspection.secret and\n"
              "signing.key (mode 0600). Then verifies the restored log and its signed checkpoints, and\n"
              "checks that its head is the one the backup recorded. Start the server on DIR afterwards.");
  cmd.data_option(data).json_option(json);
  cmd.options()("from", po::value(&from)->value_name("BACKUP_DIR")->required(), "the backup directory")(
      "backup-id", po::value(&backup_id)->value_name("N"), "which backup (default: the latest)");
  if (!cmd.parse(argc, argv)) return kExitOk;
  if (!cmd.given("data")) throw UsageError("--data: say where to restore to (a new or empty directory)");
  ::umask(077);
  const DataDir target{data};
  std::error_code ec;
  if (!fs::exists(engine_dir(from), ec))
    throw UsageError("no backups in " + from + " (" + engine_dir(from) + " is missing)");
  if (fs::exists(data, ec) && !fs::is_empty(data, ec)) {
    if (database_locked(target.db())) throw Failure(server_running_message(target));
    throw Failure(data + " is not empty; restore only into a new or empty directory (move the old one aside first)");
  }

  rocksdb::BackupEngineReadOnly* raw_engine = nullptr;
  auto io = rocksdb::BackupEngineReadOnly::Open(rocksdb::Env::Default(), rocksdb::BackupEngineOptions(engine_dir(from)),
                                                &raw_engine);
  if (!io.ok()) throw Failure("cannot open the backups in " + engine_dir(from) + ": " + io.ToString());
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw_engine);
  std::vector<rocksdb::BackupInfo> backups;
  engine->GetBackupInfo(&backups);
  if (backups.empty()) throw Failure("no backups in " + from);
  const rocksdb::BackupInfo* chosen = &backups.back();
  if (cmd.given("backup-id")) {
    chosen = nullptr;
    for (const auto& b : backups) chosen = b.backup_id == backup_id ? &b : chosen;
    if (chosen == nullptr) throw Failure("there is no backup " + std::to_string(backup_id) + " in " + from);
  }

  make_private_dir(data);
  io = engine->RestoreDBFromBackup(chosen->backup_id, target.db(), target.db());
  if (!io.ok()) throw Failure("the restore failed: " + io.ToString() + " (remove " + data + " before trying again)");
  const auto copied = copy_key_files(from, data);

  auto store = open_store(target, Access::read_only, /*log_only=*/true);
  const VerifyReport report = store->verify();
  const CheckpointReport signatures = verify_checkpoints(*store, public_key_of(target.signing_key()));
  store->close();
  const std::string restored = head_metadata(report.head);
  const bool same_head = chosen->app_metadata.empty() || chosen->app_metadata == restored;
  const bool ok = report.ok && signatures.ok && same_head;
  if (json) {
    JsonWriter w;
    w.begin_object().key("ok").value(ok).key("backup_id").value(static_cast<std::uint64_t>(chosen->backup_id));
    w.key("data").value(data).key("verified").value(report.ok).key("checkpoints_verified").value(signatures.ok);
    w.key("head").begin_object().key("seq").value(report.head.seq).key("hash").value(report.head.hash).end_object();
    w.key("backup_head").value(chosen->app_metadata).key("key_files").begin_array();
    for (const auto& name : copied) w.value(name);
    w.end_array().end_object();
    std::cout << std::move(w).str() << "\n";
  } else {
    const std::string chain =
        report.ok ? "ok" : "FAILED at seq " + std::to_string(report.first_bad_seq) + ": " + report.problem;
    const std::string checkpoints =
        signatures.ok ? std::to_string(signatures.checkpoints) + " signed checkpoints verified"
                      : "FAILED at seq " + std::to_string(signatures.first_bad_seq) + ": " + signatures.problem;
    std::cout << (ok ? "Restored" : "FAILED: restored, but the copy is not sound:") << " backup " << chosen->backup_id
              << " from " << from << " into " << data << ".\n"
              << "  verify       " << chain << "\n"
              << "  checkpoints  " << checkpoints << "\n"
              << "  head seq     " << report.head.seq << "\n"
              << "  head hash    " << report.head.hash
              << (same_head ? " (the head the backup recorded)" : " (the backup recorded " + chosen->app_metadata + ")")
              << "\n  key files    " << join(copied) << " (mode 0600)\n";
  }
  return ok ? kExitOk : kExitFinding;
}

}  // namespace tl::admin
