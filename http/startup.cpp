#include "http/startup.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "eventstore/codec.hpp"
#include "eventstore/database_id.hpp"
#include "eventstore/lock_holder.hpp"
#include "eventstore/pg_log.hpp"
#include "projections/read_model.hpp"
#include "service/backups.hpp"
#include "service/key_material.hpp"

namespace tl {

namespace fs = std::filesystem;

namespace {

// A failed check stops the start unless --read-only, which serves reads, unready, so the damage
// can be looked at. Each message says what happened and what to do next.
void refuse_or_mark(const ServerOptions& o, IntegrityGuard& guard, const IntegrityReport& report) {
  const std::string what = "the event log is damaged: first bad seq " + std::to_string(report.first_bad_seq) + " (" +
                           report.kind + ": " + report.problem + ")";
  const std::string verify = "`tokenledger-admin verify --data " + o.data + "` gives the full report";
  if (!o.read_only) {
    throw std::runtime_error(what + ". Not started, so that nothing is written after the damage. " + verify +
                             "; to read the tokens and the audit trail meanwhile, start with --read-only to "
                             "investigate");
  }
  spdlog::error(
      "{}. Serving read-only: reads are answered, writes are refused (503) and /readyz says not ready until the log "
      "is repaired or restored from a backup and the server is started again without --read-only. {}",
      what, verify);
  guard.report_damage(report);
}

// --verify-on-start tail: the records from the newest signed checkpoint (checked just before
// against the log and the signing key, so its record's bytes, hence its prev_hash, are vouched
// for) to the head; full: every record; off: no walk (the cheap checks still run).
VerifyReport walk_on_start(const EventLog& store, const std::string& mode, std::uint64_t& from) {
  from = 1;
  if (mode == "tail") {
    if (auto checkpoints = list_checkpoints(store); checkpoints && !checkpoints->empty()) {
      const auto& newest = checkpoints->back();
      if (auto raw = store.read_raw(newest.seq); raw && *raw) {
        if (auto record = decode_record(**raw); record && record->hash == newest.hash) {
          from = newest.seq;
          return store.verify_from(newest.seq, record->prev_hash);
        }
      }
    }
  }
  return store.verify();
}

void check_log_on_start(EventLog& store, const ServerOptions& o, IntegrityGuard& guard, const IntegrityOptions& check) {
  const auto started = std::chrono::steady_clock::now();
  IntegrityReport report = check_at_start(store, check);
  if (!report.ok) return refuse_or_mark(o, guard, report);
  if (o.verify_on_start != "off") {
    std::uint64_t from = 1;
    report.chain = walk_on_start(store, o.verify_on_start, from);
    if (!report.chain.ok) {
      report.ok = false;
      report.first_bad_seq = report.chain.first_bad_seq;
      report.kind = report.chain.kind;
      report.problem = report.chain.problem;
      return refuse_or_mark(o, guard, report);
    }
    spdlog::info("event log verified ({}): {} records from seq {}", o.verify_on_start, report.chain.events, from);
    guard.set_start_base(report.chain.head);  // verify answers walk from here until a full check completes
  } else if (auto checkpoints = list_checkpoints(store); checkpoints && !checkpoints->empty()) {
    guard.set_start_base({checkpoints->back().seq, checkpoints->back().hash});  // checked by check_at_start
  }
  // A small log is checked in full before serving (well under a second), so checkpoints can be
  // signed at once; a larger one is vouched for by the first background scrub.
  if (store.head().seq <= o.start_full_check_limit) {
    const IntegrityReport full = check_integrity(store, check);
    if (!full.ok) return refuse_or_mark(o, guard, full);
    guard.set_start_base(full.chain.head);
    guard.vouch();
  } else if (o.verify_on_start == "full" || o.scrub_hours == 0) {
    guard.vouch();  // the whole chain was walked, or no scrub will come: the start-up checks are all there is
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  spdlog::info(
      "start-up checks passed in {} ms: head marker, {} signed and {} witnessed checkpoints, projection "
      "checkpoint",
      ms.count(), report.checkpoints, report.witnessed);
  if (auto checkpoints = list_checkpoints(store); checkpoints && !checkpoints->empty() && !o.read_only) {
    if (auto remembered = remember_verified_checkpoint(store, checkpoints->back().seq); !remembered) {
      spdlog::warn("could not remember the verified checkpoint: {}", remembered.error().message);
    }
  }
}

// A signing key that is not the one the database's checkpoints were signed with is a key
// problem, not damage to the log: say so, naming both public keys.
void check_signing_key(const EventLog& store, const CheckpointSigner& signer, const ServerOptions& o) {
  auto checkpoints = list_checkpoints(store);
  if (!checkpoints || checkpoints->empty() || checkpoints->back().public_key == signer.public_key_hex()) return;
  const std::string what = "the signing key " + o.signing_key_file + " (public key " + signer.public_key_hex() +
                           ") is not the one this database's checkpoints are signed with (public key " +
                           checkpoints->back().public_key + "). Restore this database's signing.key";
  if (!o.read_only) throw std::runtime_error(what);
  spdlog::error("{}", what);
}

// Key files others can read stop the start, like ssh with such a private key (issue 12).
void check_key_files_private(const ServerOptions& o) {
  must(require_private_file(o.master_key_file, "master key (--master-key-file)"), "master key");
  must(require_private_file(o.signing_key_file, "checkpoint signing key (--signing-key-file)"), "signing key");
  must(require_private_file(o.webhook_secret_file, "webhook secret (--webhook-secret-file)"), "webhook secret");
  if (const char* env = std::getenv("TOKENLEDGER_INTROSPECTION_SECRET"); env == nullptr || *env == '\0') {
    must(require_private_file(o.introspection_secret_file, "introspection secret (--introspection-secret-file)"),
         "introspection secret");
  }
}

std::string load_introspection_secret(const EventLog& store, const ServerOptions& o) {
  if (const char* env = std::getenv("TOKENLEDGER_INTROSPECTION_SECRET"); env != nullptr && *env != '\0') {
    must(check_secret_length(env, "TOKENLEDGER_INTROSPECTION_SECRET"), "introspection secret");
    return env;
  }
  must(require_key_file(store, o.introspection_secret_file, "introspection secret (--introspection-secret-file)"),
       "introspection secret");
  return load_secret(o.introspection_secret_file, "introspection secret (--introspection-secret-file)");
}

}  // namespace

std::string load_secret(const std::string& path, std::string_view what) {
  if (fs::exists(path)) return must(read_secret_file(path, what), "key file");
  return must(load_or_create_secret_file(path), std::string(what));
}

void prepare_data_dir(const ServerOptions& o) {
  fs::create_directories(o.data);
  fs::permissions(o.data, fs::perms::owner_all, fs::perm_options::replace);
  check_key_files_private(o);  // before the data directory is tightened, which would hide a loose key file
  if (auto loosened = make_data_dir_private(o.data); loosened > 0) {
    spdlog::warn("{} files or folders under {} were readable by other users; made them 0600/0700", loosened, o.data);
  }
}

std::optional<SharedFileLock> claim_data_dir(const ServerOptions& o) {
  if (!o.log.empty()) return std::nullopt;  // the log is in PostgreSQL, which any number of servers share
  const std::string db = (fs::path(o.data) / "db").string();
  const std::string read_only_lock = read_only_lock_file(o.data);
  if (!o.read_only) {
    if (const auto holder = file_lock_holder(read_only_lock)) {
      throw std::runtime_error(describe_lock_holder(o.data, *holder, /*read_only=*/true) +
                               "; a writable server beside it would leave it serving a copy that no longer changes; "
                               "stop it first, or give this server another --data");
    }
    return std::nullopt;
  }
  if (const auto holder = lock_holder(db)) {
    throw std::runtime_error((holder->name == "tokenledger" ? "another " : "") + describe_lock_holder(o.data, *holder) +
                             "; a --read-only server beside it would serve a copy that no longer changes; stop it "
                             "first, or give this server another --data");
  }
  return must(SharedFileLock::take(read_only_lock), "read-only lock");
}

std::unique_ptr<EventLog> open_store(const ServerOptions& o) {
  if (!o.log.empty()) {
    return must(open_pg_log({.url = o.log, .read_only = o.read_only, .allow_async = o.pg_allow_async}),
                "event log (PostgreSQL)");
  }
  const std::string db = (fs::path(o.data) / "db").string();
  auto store = EventStore::open(db, {.extra_column_families = ReadModel::column_families(),
                                     .read_only = o.read_only,
                                     .min_free_bytes = o.min_free_mb * 1024 * 1024,
                                     .shred_after = std::chrono::seconds(o.shred_seconds)});
  // RocksDB's own words for a held lock are "IO error: While lock file …": name the holder instead.
  if (!store && !o.read_only) {
    if (const auto holder = lock_holder(db)) {
      throw std::runtime_error((holder->name == "tokenledger" ? "another " : "") +
                               describe_lock_holder(o.data, *holder) +
                               "; stop it first, or give this server another --data");
    }
  }
  return must(std::move(store), "event log");
}

void check_backup_dir_at_start(const EventLog& store, const ServerOptions& o) {
  if (o.backup_dir.empty() || o.read_only) return;
  const auto id = must(read_database_id(store), "database id");
  must(prepare_backup_dir(o.backup_dir, o.data, {o.master_key_file, o.introspection_secret_file, o.signing_key_file},
                          id.value_or("")),
       "--backup-dir");
}

KeyMaterial load_key_material(const EventLog& store, const ServerOptions& o) {
  must(require_key_file(store, o.master_key_file, "master key (--master-key-file)"), "master key");
  must(require_key_file(store, o.signing_key_file, "checkpoint signing key (--signing-key-file)"), "signing key");
  KeyMaterial keys;
  keys.introspection_secret = load_introspection_secret(store, o);
  keys.new_signing_key = !fs::exists(o.signing_key_file);
  keys.secrets = std::make_unique<TokenSecrets>(must(load_or_create_key_file(o.master_key_file), "master key"));
  keys.signer = must(CheckpointSigner::load_or_create(o.signing_key_file), "checkpoint signing key");
  return keys;
}

std::function<bool(const std::string&)> witness_poster(const ServerOptions& o, std::unique_ptr<WebhookClient>& client) {
  if (o.witness_url.empty()) return {};
  client = std::make_unique<WebhookClient>(must(parse_webhook_url(o.witness_url), "--witness-url"),
                                           load_secret(o.webhook_secret_file, "webhook secret (--webhook-secret-file)"),
                                           3, std::chrono::milliseconds(500));
  return [&client](const std::string& line) { return client->deliver(line, "checkpoint"); };
}

bool check_log_at_start(EventLog& store, const ServerOptions& o, IntegrityGuard& guard,
                        const CheckpointSigner& signer) {
  check_signing_key(store, signer, o);
  IntegrityOptions check;
  check.trusted_public_key = signer.public_key_hex();
  if (!o.witness_file.empty()) check.witnessed = must(read_witness_file(o.witness_file, true), "--witness-file");
  check_log_on_start(store, o, guard, check);
  return !o.read_only && !guard.damage();
}

}  // namespace tl
