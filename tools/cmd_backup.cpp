// backup and restore: RocksDB's BackupEngine (eventstore/backup.hpp) for the database (consistent, incremental,
// checksummed). The key files are credentials and stay out of a backup unless asked for
// (--include-keys); a restore takes them from --keys-from or from such a backup, and refuses
// without them, because a database with history must never start with freshly generated keys.
// A BACKUP_DIR belongs to one database, told apart by its database id (eventstore/database_id).
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/json_writer.hpp"
#include "eventstore/backup.hpp"
#include "eventstore/database_id.hpp"
#include "eventstore/signed_checkpoints.hpp"
#include "eventstore/token_secrets.hpp"
#include "service/backups.hpp"
#include "service/key_material.hpp"
#include "tools/backup_over_http.hpp"
#include "tools/checkpoint_check.hpp"
#include "tools/cli.hpp"
#include "tools/commands.hpp"
#include "tools/store_access.hpp"

namespace tl::admin {
namespace {

namespace fs = std::filesystem;

// What a restored database with history cannot start without: master.key unwraps the tokens'
// data keys, signing.key continues the chain of signed checkpoints, introspection.secret is the
// resource servers' credential. Only the last may come from elsewhere
// (TOKENLEDGER_INTROSPECTION_SECRET), which restore --without-introspection-secret says.
constexpr const char* kRequiredKeyFiles[] = {"master.key", "signing.key", "introspection.secret"};
constexpr std::string_view kOptionalSecret = "introspection.secret";

// The required key files that `dir` lacks; introspection.secret only unless `without_secret`.
std::vector<std::string> missing_key_files(const fs::path& dir, bool without_secret) {
  std::vector<std::string> missing;
  std::error_code ec;
  for (const char* name : kRequiredKeyFiles) {
    if (without_secret && name == kOptionalSecret) continue;
    if (!fs::exists(dir / name, ec)) missing.emplace_back(name);
  }
  return missing;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

void make_private_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Failure("cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
}

void print_backup(bool json, const std::string& data, const std::string& to, const BackupOutcome& taken) {
  const std::vector<std::string>& copied = taken.key_files;
  const std::vector<std::string>& in_directory = taken.key_files_in_directory;
  const std::vector<std::string> left_out =
      taken.include_keys ? std::vector<std::string>{}
                         : std::vector<std::string>(std::begin(kBackupKeyFiles), std::end(kBackupKeyFiles));
  if (json) {
    JsonWriter w;
    w.begin_object().key("backup_id").value(static_cast<std::uint64_t>(taken.id)).key("to").value(to);
    w.key("database_id").value(taken.database_id);
    w.key("head").begin_object().key("seq").value(taken.head.seq).key("hash").value(taken.head.hash).end_object();
    w.key("key_files").begin_array();
    for (const auto& name : copied) w.value(name);
    w.end_array().key("keys_left_out").begin_array();
    for (const auto& name : left_out) w.value(name);
    w.end_array().key("key_files_in_directory").begin_array();
    for (const auto& name : in_directory) w.value(name);
    w.end_array().end_object();
    std::cout << std::move(w).str() << "\n";
    return;
  }
  std::cout << "Backup " << taken.id << " of " << data << " written to " << to << " (checksums verified).\n"
            << "  database id  " << taken.database_id << "\n"
            << "  head seq     " << taken.head.seq << "\n"
            << "  head hash    " << taken.head.hash << "\n";
  if (taken.include_keys) {
    std::cout << "  key files    " << join(copied) << " (mode 0600; keep " << to
              << " as secret as the data directory)\n";
  } else {
    std::cout << "  key files    left out: " << join(left_out) << ".\n"
              << "               Keep them elsewhere (apart from the backups): restoring needs them\n"
              << "               (restore --keys-from DIR). --include-keys puts them in the backup.\n";
    if (!in_directory.empty()) {
      std::cout << "  note         " << to << " still holds " << join(in_directory)
                << " from an earlier backup with --include-keys;\n"
                << "               they serve every backup there. Remove them to keep the keys apart.\n";
    }
  }
}

}  // namespace

int cmd_backup(int argc, char** argv) {
  std::string data, to;
  bool json = false, include_keys = false;
  Command cmd("backup",
              "[--data DIR] --to BACKUP_DIR [--include-keys] [--json]\n"
              "       tokenledger-admin backup --server URL --user NAME [--cacert FILE] [--include-keys] [--json]",
              "Writes a consistent backup of the database in DIR into BACKUP_DIR (created 0700) with\n"
              "RocksDB's BackupEngine (BACKUP_DIR/rocksdb: incremental, checksummed, one numbered backup\n"
              "per run, each with the head seq and hash it holds).\n"
              "The key files DIR/master.key (needed to show token codes again), DIR/signing.key (signs\n"
              "checkpoints) and DIR/introspection.secret are credentials: they are left out unless\n"
              "--include-keys is given (then copied with mode 0600). Keep them elsewhere; a restore\n"
              "needs them (restore --keys-from DIR).\n"
              "A BACKUP_DIR holds the backups of one database only: it records the database id\n"
              "(BACKUP_DIR/database_id) and refuses another database's backups.\n"
              "Needs the database to itself: stop the server first.\n\n"
              "With --server URL --user NAME, asks the running server instead (POST /api/v1/admin/backups,\n"
              "the server's --backup-dir): NAME, an admin, signs in with the password read from standard\n"
              "input (never from the command line); the server backs up while it serves.");
  cmd.data_option(data).json_option(json);
  cmd.options()("to", po::value(&to)->value_name("BACKUP_DIR"), "where the backups are kept")(
      "include-keys", po::bool_switch(&include_keys),
      "also copy master.key, signing.key and introspection.secret into BACKUP_DIR");
  ServerBackupOptions server{.include_keys = false};
  server_backup_options(cmd, server);
  cmd.epilog(
      "Restore with: tokenledger-admin restore --from BACKUP_DIR --keys-from KEY_DIR --data NEW_DIR\n"
      "(or without --keys-from for a backup made with --include-keys)");
  if (!cmd.parse(argc, argv)) return kExitOk;
  server.include_keys = include_keys;
  if (cmd.given("server")) {
    if (cmd.given("to") || cmd.given("data")) throw UsageError("--server goes without --to and --data");
    return backup_over_http(server, json);
  }
  if (!cmd.given("to")) throw UsageError("--to: say where the backups are kept (or --server URL --user NAME)");
  ::umask(077);  // the backup holds password hashes (and the keys when asked): owner-only
  const DataDir source{data};

  auto store = open_store(source, Access::writable);  // gives the database its id when missing
  BackupRequest request;
  request.dir = to;
  request.data_dir = source.root;
  request.include_keys = include_keys;
  request.keys = KeyFilePaths::in(source.root);
  request.scratch_dir = (fs::path(source.root) / "backup-checkpoint.tmp").string();
  auto taken = take_backup(*store, request);
  store->close();
  if (!taken) {
    // conflict (another database's or history's backups, a BACKUP_DIR in or around the data
    // directory) and invalid_field (not a directory) are refusals like the others.
    const ErrorCode code = taken.error().code;
    throw Failure(taken.error().message, code == ErrorCode::conflict || code == ErrorCode::invalid_field
                                             ? ErrorKind::refused
                                             : ErrorKind::failed);
  }

  print_backup(json, data, to, *taken);
  for (std::string_view name : kBackupKeyFiles) {
    if (include_keys && std::find(taken->key_files.begin(), taken->key_files.end(), name) == taken->key_files.end()) {
      std::cerr << "note: " << (fs::path(data) / name).string() << " does not exist, so it is not in the backup\n";
    }
  }
  return kExitOk;
}

namespace {

// Where a restore takes the key files from: --keys-from, else the backup when it was made with
// --include-keys. Refuses, naming what is missing, before anything is written.
fs::path key_source(const std::string& from, const std::string& keys_from, bool without_secret) {
  const std::string both =
      "pass --keys-from DIR (the directory holding master.key, signing.key and introspection.secret) or "
      "restore from a backup made with --include-keys. introspection.secret may be left out only when the "
      "server will get TOKENLEDGER_INTROSPECTION_SECRET: then say --without-introspection-secret";
  if (!keys_from.empty()) {
    const auto missing = missing_key_files(keys_from, without_secret);
    if (!missing.empty())
      throw Failure("--keys-from " + keys_from + " lacks " + join(missing) + "; " + both, ErrorKind::refused);
    return keys_from;
  }
  const auto missing = missing_key_files(from, without_secret);
  if (missing.empty()) return from;
  throw Failure("no key files to restore with: the backup in " + from + " lacks " + join(missing) +
                    " (made without --include-keys?); " + both +
                    ". A restored database must not start with freshly generated keys: its tokens and "
                    "signed checkpoints need the old ones.",
                ErrorKind::refused);
}

struct RestoreOutcome {
  std::uint32_t backup_id = 0;
  std::string backup_head;  // the head the backup recorded ("seq HASH"), may be empty
  VerifyReport report;
  CheckpointReport signatures;
  std::string database_id;         // the restored database's; empty when it has none
  std::string backup_database_id;  // BACKUP_DIR/database_id; empty for older backups
  std::vector<std::string> copied;
  fs::path keys_from;
  bool same_head = false;
  bool same_id = false;
  std::string master_key_problem;  // check_master_key's refusal; empty when the key is this database's
  bool ok() const { return report.ok && signatures.ok && same_head && same_id && master_key_problem.empty(); }
};

void print_restore(bool json, const std::string& from, const std::string& data, const RestoreOutcome& r) {
  if (json) {
    JsonWriter w;
    w.begin_object().key("ok").value(r.ok()).key("backup_id").value(static_cast<std::uint64_t>(r.backup_id));
    w.key("data").value(data).key("verified").value(r.report.ok).key("checkpoints_verified").value(r.signatures.ok);
    w.key("master_key_ok").value(r.master_key_problem.empty());
    if (!r.master_key_problem.empty()) w.key("problem").value(r.master_key_problem);
    w.key("head").begin_object().key("seq").value(r.report.head.seq).key("hash").value(r.report.head.hash).end_object();
    w.key("backup_head").value(r.backup_head).key("database_id").value(r.database_id);
    w.key("backup_database_id").value(r.backup_database_id).key("keys_from").value(r.keys_from.string());
    w.key("key_files").begin_array();
    for (const auto& name : r.copied) w.value(name);
    w.end_array().end_object();
    std::string text = std::move(w).str();
    if (!r.ok()) {  // one object: the outcome with the error every --json failure carries
      const bool key = !r.master_key_problem.empty();
      text =
          with_error(std::move(text), key ? ErrorKind::refused : ErrorKind::check_failed,
                     key ? "the key files do not belong to this backup: " + r.master_key_problem
                         : "the restored copy is not sound (see verified, checkpoints_verified, head); it was removed");
    }
    std::cout << text << "\n";
    return;
  }
  const std::string chain =
      r.report.ok ? "ok" : "FAILED at seq " + std::to_string(r.report.first_bad_seq) + ": " + r.report.problem;
  const std::string checkpoints =
      r.signatures.ok ? std::to_string(r.signatures.checkpoints) + " signed checkpoints verified"
                      : "FAILED at seq " + std::to_string(r.signatures.first_bad_seq) + ": " + r.signatures.problem;
  std::cout << (r.ok() ? "Restored" : "FAILED: restored, but the copy is not sound:") << " backup " << r.backup_id
            << " from " << from << " into " << data << ".\n"
            << "  verify       " << chain << "\n"
            << "  checkpoints  " << checkpoints << "\n"
            << "  master key   " << (r.master_key_problem.empty() ? "ok" : "FAILED: " + r.master_key_problem) << "\n"
            << "  head seq     " << r.report.head.seq << "\n"
            << "  head hash    " << r.report.head.hash
            << (r.same_head ? " (the head the backup recorded)" : " (the backup recorded " + r.backup_head + ")")
            << "\n  database id  " << (r.database_id.empty() ? "-" : r.database_id)
            << (r.same_id ? "" : " (the backup directory records " + r.backup_database_id + ")") << "\n  key files    "
            << join(r.copied) << " from " << r.keys_from.string() << " (mode 0600)\n";
  if (!r.ok()) std::cout << "  removed      " << data << " (what the restore wrote there)\n";
}

// The master key the restore copied against the check value the log records: a foreign key
// would restore "fine" and then keep the server from starting. Empty when it is this database's.
std::string master_key_problem(EventLog& store, const DataDir& target) {
  auto key = load_or_create_key_file(target.master_key());  // copied just before: only read
  if (!key) return "cannot read " + target.master_key() + ": " + key.error().message;
  const TokenSecrets secrets(*key);
  auto checked = check_master_key(store, secrets, target.master_key(), /*may_record=*/false);
  return checked ? std::string() : checked.error().message;
}

// A failed restore leaves nothing behind: the directory it created, or what it wrote into the
// empty one it was given, is removed unless the restore succeeded.
class UndoOnFailure {
 public:
  explicit UndoOnFailure(fs::path dir) : dir_(std::move(dir)) {
    std::error_code ec;
    existed_ = fs::exists(dir_, ec);
  }
  ~UndoOnFailure() {
    if (succeeded_) return;
    std::error_code ec;
    if (!existed_) {
      fs::remove_all(dir_, ec);
      return;
    }
    for (const auto& entry : fs::directory_iterator(dir_, ec)) fs::remove_all(entry.path(), ec);
  }
  UndoOnFailure(const UndoOnFailure&) = delete;
  UndoOnFailure& operator=(const UndoOnFailure&) = delete;
  void succeeded() { succeeded_ = true; }

 private:
  fs::path dir_;
  bool existed_ = false;
  bool succeeded_ = false;
};

}  // namespace

int cmd_restore(int argc, char** argv) {
  std::string data, from, keys_from;
  std::uint32_t backup_id = 0;
  bool json = false, without_secret = false;
  Command cmd("restore",
              "--from BACKUP_DIR --data DIR [--keys-from KEY_DIR] [--without-introspection-secret]\n"
              "                         [--backup-id N] [--json]",
              "Restores a backup written by `tokenledger-admin backup` into DIR, which must be new or\n"
              "empty: the RocksDB database into DIR/db, and master.key, signing.key and\n"
              "introspection.secret, mode 0600, from --keys-from KEY_DIR, or from BACKUP_DIR when the\n"
              "backup was made with --include-keys. Without them it refuses and writes nothing: a\n"
              "database with history must never start with freshly generated keys (its tokens, signed\n"
              "checkpoints and gateways need the old ones). introspection.secret may be left out only\n"
              "when the server gets TOKENLEDGER_INTROSPECTION_SECRET: --without-introspection-secret.\n"
              "Then verifies the restored log and its signed checkpoints (against the restored signing\n"
              "key), checks the master key against the check value the log records, and that its head\n"
              "and database id are the ones the backup recorded. When any of that fails it removes what\n"
              "it wrote (exit 1). Start the server on DIR afterwards.");
  cmd.data_option(data).json_option(json);
  cmd.options()("from", po::value(&from)->value_name("BACKUP_DIR")->required(), "the backup directory")(
      "keys-from", po::value(&keys_from)->value_name("KEY_DIR"),
      "the directory holding master.key, signing.key and introspection.secret")(
      "without-introspection-secret", po::bool_switch(&without_secret),
      "restore without introspection.secret (the server will get TOKENLEDGER_INTROSPECTION_SECRET)")(
      "backup-id", po::value(&backup_id)->value_name("N"), "which backup (default: the latest)");
  if (!cmd.parse(argc, argv)) return kExitOk;
  if (!cmd.given("data")) throw UsageError("--data: say where to restore to (a new or empty directory)");
  ::umask(077);
  const DataDir target{data};
  std::error_code ec;
  if (!fs::exists(backup_engine_dir(from), ec))
    throw UsageError("no backups in " + from + " (" + backup_engine_dir(from) + " is missing)", ErrorKind::cannot_open);
  if (fs::exists(data, ec) && !fs::is_empty(data, ec)) {
    if (database_locked(target.db())) throw Failure(server_running_message(target), ErrorKind::server_running);
    throw Failure(data + " is not empty; restore only into a new or empty directory (move the old one aside first)",
                  ErrorKind::refused);
  }
  RestoreOutcome r;
  r.keys_from = key_source(from, keys_from, without_secret);

  auto engine = Backups::open(backup_engine_dir(from), /*read_only=*/true);
  if (!engine) throw Failure("cannot open the backups in " + backup_engine_dir(from) + ": " + engine.error().message);
  const std::vector<BackupEntry> backups = (*engine)->list();
  if (backups.empty()) throw Failure("no backups in " + from, ErrorKind::not_found);
  const BackupEntry* chosen = &backups.back();
  if (cmd.given("backup-id")) {
    chosen = nullptr;
    for (const auto& b : backups) chosen = b.id == backup_id ? &b : chosen;
    if (chosen == nullptr)
      throw Failure("there is no backup " + std::to_string(backup_id) + " in " + from, ErrorKind::not_found);
  }

  UndoOnFailure undo(data);
  make_private_dir(data);
  if (auto restored = (*engine)->restore(chosen->id, target.db()); !restored) {
    throw Failure("the restore failed: " + restored.error().message + " (nothing is left in " + data + ")");
  }
  auto copied = copy_key_files(KeyFilePaths::in(r.keys_from.string()), data);
  if (!copied) throw Failure(copied.error().message);
  r.copied = std::move(*copied);

  auto store = open_store(target, Access::read_only, /*log_only=*/true);
  r.report = store->verify();
  r.signatures = verify_checkpoints(*store, public_key_of(target.signing_key()));
  if (auto id = read_database_id(*store); id && *id) r.database_id = **id;
  r.master_key_problem = master_key_problem(*store, target);
  store->close();
  r.backup_id = chosen->id;
  r.backup_head = chosen->metadata;
  const auto recorded = parse_backup_metadata(r.backup_head);
  r.same_head = r.backup_head.empty() ||
                (recorded && recorded->head.seq == r.report.head.seq && recorded->head.hash == r.report.head.hash);
  r.backup_database_id = backup_database_id(from);
  r.same_id = r.backup_database_id.empty() || r.backup_database_id == r.database_id;
  print_restore(json, from, data, r);
  if (r.ok()) undo.succeeded();
  return r.ok() ? kExitOk : kExitFinding;
}

}  // namespace tl::admin
