// The admin tool's backup of a running server (`backup --server URL --user NAME`) and its check
// of a backup directory (`verify --backup BACKUP_DIR`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tools/cli.hpp"

namespace tl::admin {

struct ServerBackupOptions {
  std::string url;
  std::string user;
  std::string ca_file;
  bool include_keys = false;
};

// Adds --server, --user and --cacert to `cmd`.
void server_backup_options(Command& cmd, ServerBackupOptions& options);

// Signs in as options.user (the password read from standard input: one line, without echo on a
// terminal), POSTs /api/v1/admin/backups, signs out, and prints the result (the server's JSON
// with --json). Exit 0 on 201; throws Failure with the server's message otherwise, UsageError
// for a bad URL or no password.
int backup_over_http(const ServerBackupOptions& options, bool json);

// Checks backup `id` (default: the newest) of BACKUP_DIR: every file against its checksum
// (BackupEngine), then restores it into a temporary directory under `scratch` (default: the
// system's), opens it read-only and runs the same full check as `verify --data` (chain, indexes,
// signed checkpoints against `public_key`, else the backup's signing.key when it holds one), and
// that its head is the one the backup recorded. Removes the temporary copy. Exit 0 / 1.
int verify_backup(const std::string& backup_dir, std::optional<std::uint32_t> id, const std::string& public_key,
                  const std::string& scratch, bool json);

}  // namespace tl::admin
