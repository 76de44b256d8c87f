// The server's start before it serves: the data directory, the log, the key material and the
// checks of the log (issue 6, 11, 12). Part of the tokenledger binary, not of the http library.
// Every function here throws std::runtime_error naming the cause and what to do when the start
// must stop: main reports it as "cannot start" and exits 1.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "domain/result.hpp"
#include "eventstore/event_store.hpp"
#include "eventstore/lock_holder.hpp"
#include "eventstore/signed_checkpoints.hpp"
#include "eventstore/token_secrets.hpp"
#include "http/server_options.hpp"
#include "http/webhook_client.hpp"
#include "service/integrity_guard.hpp"

namespace tl {

// The value of `r`, or a start-up error "`what`: <its message>".
template <class T>
T must(Result<T> r, std::string_view what) {
  if (!r) throw std::runtime_error(std::string(what) + ": " + r.error().message);
  return std::move(r).value();
}

// Nothing, or a start-up error "`what`: <its message>".
inline void must(const Status& s, std::string_view what) {
  if (!s) throw std::runtime_error(std::string(what) + ": " + s.error().message);
}

// --data made (0700) and tightened: files others could read made 0600, folders 0700 (a warning
// says how many). The key files are checked private first, since tightening would hide one that
// was not.
void prepare_data_dir(const ServerOptions& o);

// The event log in DATA/db, with the projections' column families; read-only with --read-only.
// A --read-only open takes no lock of RocksDB's, so a read-only server and a writable one could
// serve one data directory together, the read-only one from a copy that no longer changes (a
// token deleted on the other still active to its introspection). So a read-only server refuses
// to start beside a writable one and holds a shared lock on read_only_lock_file while it serves
// (returned: keep it for the run), and a writable one refuses while that lock is held.
std::optional<SharedFileLock> claim_data_dir(const ServerOptions& o);

std::unique_ptr<EventLog> open_store(const ServerOptions& o);

// The secret in the key file `path` as it is (private, long enough: service/key_material.hpp),
// or a new one in a file made 0600 when there is none. `what` names it in errors.
std::string load_secret(const std::string& path, std::string_view what);

// The server's key material. Key files of a database with history are never created again
// (service/key_material.hpp); those of an empty one are created 0600.
struct KeyMaterial {
  std::string introspection_secret;          // the gateways' credential for /api/v1/introspect
  std::unique_ptr<TokenSecrets> secrets;     // seals and opens token codes (the master key)
  std::unique_ptr<CheckpointSigner> signer;  // signs checkpoints of the head
  bool new_signing_key = false;              // created by this start: its public key is shown
};
KeyMaterial load_key_material(const EventLog& store, const ServerOptions& o);

// What posts a signed checkpoint to --witness-url (through `client`, created here and owned by
// the caller, who keeps it alive while the result is used); empty without --witness-url.
std::function<bool(const std::string&)> witness_poster(const ServerOptions& o, std::unique_ptr<WebhookClient>& client);

// The --backup-dir check at start (prepare_backup_dir): in the wrong place (the data directory,
// a key file's), not a writable directory, or another database's: the start stops naming it.
// Nothing is checked without --backup-dir or with --read-only (which takes no backups).
void check_backup_dir_at_start(const EventLog& store, const ServerOptions& o);

// The start-up checks of the log: the signing key is this database's, then check_at_start and
// the --verify-on-start walk, then (a small log) the full check, which lets `guard` vouch. A
// failed check stops the start, naming the cause and `tokenledger-admin verify`; with
// --read-only the server starts anyway, serving reads, unready (the damage recorded in `guard`).
// Returns whether the server may write: not read-only and no damage found.
bool check_log_at_start(EventLog& store, const ServerOptions& o, IntegrityGuard& guard, const CheckpointSigner& signer);

}  // namespace tl
