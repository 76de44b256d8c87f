// The rules of a backup directory, written once for the admin tool (`tokenledger-admin backup`,
// `restore`, `verify --backup`) and the server (POST /api/v1/admin/backups, --backup-dir).
//
// A BACKUP_DIR (made 0700) holds:
//   BACKUP_DIR/rocksdb      RocksDB's BackupEngine: numbered, incremental, checksummed backups,
//                           each with its metadata (encode_backup_metadata: the head it holds)
//   BACKUP_DIR/database_id  the id of the one database whose backups it holds (database_id.hpp)
//   master.key, signing.key, introspection.secret   only when a backup asked for the keys (0600)
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.hpp"
#include "eventstore/backup.hpp"
#include "eventstore/event_store.hpp"

namespace tl {

// The key files a backup leaves out unless asked, by the names they have in BACKUP_DIR (and in a
// data directory by default).
inline constexpr std::array<std::string_view, 3> kBackupKeyFiles = {"master.key", "introspection.secret",
                                                                    "signing.key"};

// Where a database's key files are (the server's --master-key-file etc., or DIR/<name>).
struct KeyFilePaths {
  std::string master_key;
  std::string introspection_secret;  // empty: none (the server got TOKENLEDGER_INTROSPECTION_SECRET)
  std::string signing_key;
  // The key files of a data directory with the default names.
  static KeyFilePaths in(const std::string& data_dir);
};

// BACKUP_DIR/rocksdb.
std::string backup_engine_dir(const std::string& backup_dir);

// What a backup's metadata records: the head it holds and whether the key files were copied with
// it. The text is "SEQ HASH keys" or "SEQ HASH nokeys"; backups written before issue 16 have
// "SEQ HASH" (include_keys unknown: nullopt).
struct BackupMetadata {
  Head head;
  std::optional<bool> include_keys;
};
std::string encode_backup_metadata(const Head& head, bool include_keys);
// nullopt when `text` is not such a text (a backup written by something else).
std::optional<BackupMetadata> parse_backup_metadata(std::string_view text);

// BACKUP_DIR/database_id, trimmed; empty when there is none (older backup directories);
// "(not a file)" or "(not a database id)" when it is something else (never its content then).
std::string backup_database_id(const std::string& backup_dir);

// Refuses (conflict, naming BACKUP_DIR and both ids) a BACKUP_DIR holding another database's
// backups: by the id it recorded, or, for a directory written before ids, by the master.key an
// older backup copied there differing from `master_key_file`.
Status check_backup_dir(const std::string& backup_dir, const std::string& database_id,
                        const std::string& master_key_file);

// Refuses (conflict, naming both paths) a BACKUP_DIR that is the data directory, lies inside it or
// holds it, holds one of the key files itself (or a hard link to it), or holds its own files
// (rocksdb, database_id, the key files) as symbolic links: a backup there would copy the database
// into itself, a key file onto itself (which used to leave master.key empty), or read a key as the
// id. Paths are compared after resolving symbolic links and "..".
Status check_backup_location(const std::string& backup_dir, const std::string& data_dir, const KeyFilePaths& keys);

// What the server checks of its --backup-dir at start, so that a wrong one stops the start rather
// than the first backup: check_backup_location, the directory made (0700) when missing and
// writable, and check_backup_dir against `database_id` (empty: not known yet, not checked).
// Errors: conflict (the location, another database's), invalid_field (not a directory),
// unavailable (I/O).
Status prepare_backup_dir(const std::string& backup_dir, const std::string& data_dir, const KeyFilePaths& keys,
                          const std::string& database_id);

// The key files present in BACKUP_DIR (a backup taken with include_keys left them there; they
// serve every backup in the directory, since they are the database's, not one backup's).
std::vector<std::string> key_files_in(const std::string& backup_dir);

// Copies each key file of `from` that exists into `to` under its BACKUP_DIR name, mode 0600 (the
// copy is made owner-only before any byte is written, into a temporary file renamed over the old
// copy, so a failed copy leaves the old one). A source that is the destination itself is refused.
// Returns the names copied. Errors: unavailable naming the file; invalid_field for a file onto itself.
Result<std::vector<std::string>> copy_key_files(const KeyFilePaths& from, const std::string& to);

struct BackupRequest {
  std::string dir;       // BACKUP_DIR, created 0700 when missing
  std::string data_dir;  // the data directory (check_backup_location)
  bool include_keys = false;
  KeyFilePaths keys;        // copied when include_keys
  std::string scratch_dir;  // where the checkpoint is made: beside the database (Backups::create)
  BackupTuning tuning;
  // Called on the copying thread with the bytes copied so far (about every
  // tuning.progress_every, see BackupTuning); must not throw.
  std::function<void(std::uint64_t bytes)> progress;
  // Set from another thread when the server is stopping: no copy starts once it is set, and a copy
  // stopped meanwhile (through `attach`: Backups::stop) fails as "the backup was stopped"
  // (unavailable); its partial files go at the next backup.
  const std::atomic<bool>* stop = nullptr;
  // Called with the open engine before the copy, and with nullptr before it closes: the server
  // stops it (Backups::stop) and reads its progress (Backups::bytes_copied) from other threads
  // through it. Must not throw.
  std::function<void(Backups*)> attach;
};

struct BackupOutcome {
  std::uint32_t id = 0;
  Head head;  // exactly the head the backup holds
  std::string database_id;
  bool include_keys = false;
  std::vector<std::string> key_files;  // copied into BACKUP_DIR (include_keys)
  std::int64_t created_unix = 0;       // seconds
  std::uint64_t size = 0;              // bytes of the files the backup needs
  // The key files BACKUP_DIR holds once the backup is written (key_files_in): with include_keys
  // false, those an earlier backup left there, which serve this one too.
  std::vector<std::string> key_files_in_directory;
};

// Takes a backup of `store` into request.dir: refuses a BACKUP_DIR in the wrong place
// (check_backup_location), another database's (check_backup_dir), or one whose newest backup is
// not a past state of this log (a restored copy that went its own way since: conflict naming the
// seq), writes the backup (Backups::create, consistent while serving), reads every
// file of it back against its checksums, records the database id, copies the key files when
// asked. Errors: conflict (another database's directory), unavailable (I/O, the copy, a backup
// that does not verify), internal (no database id: a read-only store that never had one).
Result<BackupOutcome> take_backup(EventStore& store, const BackupRequest& request);

// One backup as listed: the engine's facts and its parsed metadata (nullopt: unreadable).
struct BackupListing {
  BackupEntry entry;
  std::optional<BackupMetadata> metadata;
};
// Every backup in BACKUP_DIR, oldest first (a read-only open: safe beside a writer). Errors:
// not_found when BACKUP_DIR/rocksdb does not exist; unavailable when the engine cannot open it.
Result<std::vector<BackupListing>> list_backups(const std::string& backup_dir);

}  // namespace tl
