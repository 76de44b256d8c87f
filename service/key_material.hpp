// Key material of a data directory (issue 11; README "Keys"). master.key seals every token's
// code, signing.key signs checkpoints of the log's head, introspection.secret is the gateways'
// credential. Each is created at the first start of an empty database and never again: on a
// database with history a missing file is an error naming it and how to restore it, since a new
// key would silently make every code unopenable, every checkpoint "forged", every gateway 401.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "domain/result.hpp"
#include "eventstore/event_log.hpp"
#include "eventstore/token_secrets.hpp"

namespace tl {

// OK when `path` exists, or when the log is empty (it will be created). Otherwise an error naming
// `what`, the file, and how to restore it (from where it was kept, or a backup made with
// --include-keys).
Status require_key_file(const EventLog& store, const std::string& path, std::string_view what);

// The master key's check value against the one recorded in the log (KeyCheckRecorded on stream
// "system:keys"): refused when they differ. When none is recorded yet (an empty database, or one
// made before check values existed) it is recorded now, unless `may_record` is false (read-only).
Status check_master_key(EventLog& store, const TokenSecrets& secrets, const std::string& key_file, bool may_record);

inline constexpr std::string_view kKeyCheckStream = "system:keys";

// Secrets shorter than this (bytes) are refused from every source: a guessable credential
// guards the gateways' view of every token (issue 12).
inline constexpr std::size_t kMinSecretBytes = 16;

// Like ssh with a private key: OK when `path` is not readable, writable or executable by group or
// others (mode & 077 == 0). Otherwise an error naming `what`, the file, its mode and `chmod 600`.
// A file that does not exist is OK (it is made 0600 when needed).
Status require_private_file(const std::string& path, std::string_view what);

// The secret held in the key file `path` (its first line, without the line end), for every
// --*-file secret (introspection, webhook, metrics). Errors name `what` and the file: missing or
// unreadable, group- or world-accessible (require_private_file), or shorter than kMinSecretBytes.
Result<std::string> read_secret_file(const std::string& path, std::string_view what);

// Every file under `dir` made 0600 and every folder 0700 where group or others had any access
// (a data directory written before issue 12, or copied with a loose umask); returns how many were
// changed, for a warning. Entries that cannot be changed are left (the start goes on).
std::size_t make_data_dir_private(const std::string& dir);

// `secret` from a source that is not a file (e.g. TOKENLEDGER_INTROSPECTION_SECRET), or an error
// naming `what` when it is shorter than kMinSecretBytes.
Status check_secret_length(std::string_view secret, std::string_view what);

}  // namespace tl
