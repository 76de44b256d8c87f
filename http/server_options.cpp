#include "http/server_options.hpp"

#include <boost/program_options.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "common/build_info.hpp"
#include "eventstore/pg_log.hpp"
#include "eventstore/rocksdb_version.hpp"
#include "http/client_address.hpp"
#include "http/host_check.hpp"

namespace tl {

namespace po = boost::program_options;
namespace fs = std::filesystem;

// Returns nullopt when the process should exit (after --help, or on bad options).
std::optional<ServerOptions> parse_server_options(int argc, char** argv, int& exit_code) {
  ServerOptions o;
  po::options_description desc("tokenledger: the API-token service\n\nUsage: tokenledger [options]\n\nOptions");
  desc.add_options()("help,h", "print this help and exit")("version", "print the version and build, and exit")(
      "listen", po::value(&o.listen)->default_value(o.listen), "address:port to serve on; port 0 picks a free port")(
      "data", po::value(&o.data)->default_value(o.data), "directory of the RocksDB database and key material")(
      "log", po::value(&o.log)->value_name("URL"),
      "the event log on PostgreSQL instead of DATA/db: postgresql://user@host[:port][,host2…]/db (a libpq URI; "
      "add target_session_attrs=read-write to follow a failover); better given as TOKENLEDGER_PG_URL, which "
      "keeps a password out of the process list")(
      "max-staleness", po::value(&o.max_staleness_seconds)->default_value(o.max_staleness_seconds)->value_name("S"),
      "with --log postgresql://…: once the database has not answered for S seconds, /readyz says so (\"stale\"); "
      "the node goes on serving introspection and reads from memory")(
      "pg-allow-async", po::bool_switch(&o.pg_allow_async),
      "with --log postgresql://…: append even when PostgreSQL has no synchronous standby (a single development "
      "instance; a write is then on one machine only)")(
      "tls-cert", po::value(&o.tls_cert), "serve HTTPS (TLS 1.2+) with this PEM certificate chain; needs --tls-key")(
      "tls-key", po::value(&o.tls_key), "the PEM private key of --tls-cert (unencrypted; keep it 0600)")(
      "master-key-file", po::value(&o.master_key_file), "the master key (created 0600 if missing) [DATA/master.key]")(
      "introspection-secret-file", po::value(&o.introspection_secret_file),
      "the service credential for /api/v1/introspect, unless TOKENLEDGER_INTROSPECTION_SECRET is set "
      "[DATA/introspection.secret, created 0600 if missing]")(
      "signing-key-file", po::value(&o.signing_key_file),
      "Ed25519 seed that signs checkpoints of the log's head (created 0600 if missing) [DATA/signing.key]")(
      "checkpoint-seconds", po::value(&o.checkpoint_seconds)->default_value(o.checkpoint_seconds),
      "sign a checkpoint of the head this often when the log has grown (and at start and shutdown)")(
      "checkpoint-minutes", po::value<int>()->value_name("N"),
      "the same in minutes (an alias; not with --checkpoint-seconds)")(
      "witness-file", po::value(&o.witness_file),
      "append every signed checkpoint to this file (one JSON line, fsynced), kept on another volume; the log "
      "must reach and match every checkpoint in it at each start")(
      "witness-url", po::value(&o.witness_url),
      "also POST every signed checkpoint (the same JSON) to this http:// URL, retried until delivered")(
      "start-full-check-limit", po::value(&o.start_full_check_limit)->default_value(o.start_full_check_limit),
      "a log of at most this many records is checked in full (chain and indexes) before serving, so checkpoints "
      "are signed at once; a larger one waits for the first scrub; 0: always wait")(
      "scrub-hours", po::value(&o.scrub_hours)->default_value(o.scrub_hours),
      "check the whole log and its indexes in the background at start and this often; damage turns the server "
      "read-only; 0: never")("usage-log-minutes", po::value(&o.usage_log_minutes)->default_value(o.usage_log_minutes),
                             "log at most one TokenUsed per token this often (the exact last use is always shown)")(
      "webhook-url", po::value(&o.webhook_url),
      "http:// URL that receives expiry warnings (7 days, 1 day, expired), HMAC-signed; none by default")(
      "webhook-secret-file", po::value(&o.webhook_secret_file),
      "HMAC key of the webhook signatures (created 0600 if missing) [DATA/webhook.secret]")(
      "webhook-attempts", po::value(&o.webhook_attempts)->default_value(o.webhook_attempts),
      "delivery attempts per notice")("webhook-backoff-ms",
                                      po::value(&o.webhook_backoff_ms)->default_value(o.webhook_backoff_ms),
                                      "wait before the first retry; doubled after each")(
      "expiry-scan-seconds", po::value(&o.expiry_scan_seconds)->default_value(o.expiry_scan_seconds),
      "how often tokens are checked for expiry warnings")(
      "reveal-reauth-minutes", po::value(&o.reveal_reauth_minutes)->default_value(o.reveal_reauth_minutes),
      "showing a code through the web UI needs the password typed within this many minutes; 0: never")(
      "log-level", po::value(&o.log_level)->default_value(o.log_level),
      "trace, debug, info, warn, error, critical, off")(
      "io-threads", po::value(&o.io_threads)->default_value(o.io_threads), "threads serving connections")(
      "workers", po::value(&o.workers)->default_value(o.workers),
      "threads for requests that write to the log (they wait on fsync together)")(
      "max-tokens-per-user", po::value(&o.max_tokens)->default_value(o.max_tokens), "live tokens a user may hold")(
      "body-limit", po::value(&o.body_limit)->default_value(o.body_limit), "largest request body, bytes")(
      "max-connections", po::value(&o.max_connections)->default_value(o.max_connections),
      "open connections at most; beyond, a new one is answered 503 and closed")(
      "max-streams-per-user", po::value(&o.max_streams_per_user)->default_value(o.max_streams_per_user),
      "audit streams one user may hold open at once; one more is answered 429; 0: no limit")(
      "max-connections-per-ip", po::value(&o.max_connections_per_ip)->default_value(o.max_connections_per_ip),
      "once more than half of --max-connections are open, one client address may hold at most this many "
      "(beyond, 503 and closed); 0: a quarter of --max-connections")(
      "reveal-rate", po::value(&o.reveal_rate)->default_value(o.reveal_rate),
      "reveals per user a minute, with a burst of as many (beyond: 429 rate_limited with Retry-After, nothing "
      "recorded); 0: no limit")(
      "metrics-secret-file", po::value(&o.metrics_secret_file),
      "serve /metrics on the main listener to the bearer of the secret in this file (Authorization: Bearer; "
      "at least 16 bytes, not readable by group or others); without it or --metrics-listen /metrics answers 401")(
      "metrics-listen", po::value(&o.metrics_listen),
      "also listen on ADDR:PORT (plain HTTP) for /metrics, without a secret, and /healthz only")(
      "session-idle-minutes", po::value(&o.session_idle_minutes)->default_value(o.session_idle_minutes),
      "a session ends after this long unused")(
      "session-lifetime-minutes", po::value(&o.session_lifetime_minutes)->default_value(o.session_lifetime_minutes),
      "a session ends this long after sign-in")(
      "verify-on-start", po::value(&o.verify_on_start)->default_value(o.verify_on_start),
      "check the log's hash chain before serving: full (from seq 1), tail (from the newest signed "
      "checkpoint the log still matches), off; a damaged log stops the start")(
      "min-free-mb", po::value(&o.min_free_mb)->default_value(o.min_free_mb),
      "refuse writes (503 unavailable, nothing written) while the data directory's disk has less "
      "free space than this; 0: no check")(
      "shred-seconds", po::value(&o.shred_seconds)->default_value(o.shred_seconds),
      "within this many seconds (1 or more) of a token's deletion no file of the data directory, write-ahead "
      "log included, still holds its data key (a flush and a compaction)")(
      "public-url", po::value(&o.public_urls)->value_name("URL")->composing(),
      "https://host[:port] (or http://) the server is reached at, repeatable: requests naming another host "
      "than an IP address, localhost or these get 421; a browser page of it may write (CSRF check); an https "
      "one makes the session cookie Secure and __Host- prefixed (behind a TLS-terminating proxy)")(
      "trusted-proxy", po::value(&o.trusted_proxies)->value_name("CIDR")->composing(),
      "a reverse proxy's address or range (10.0.0.0/8, ::1), repeatable: only from these peers is the "
      "client address taken from Forwarded or X-Forwarded-For (the peer is recorded too)")(
      "read-only", po::bool_switch(&o.read_only),
      "serve reads only, even from a damaged log (for investigation); every write answers 503")(
      "backup-dir", po::value(&o.backup_dir)->value_name("DIR"),
      "where POST /api/v1/admin/backups writes consistent backups while serving (created 0700; the backups of "
      "this database only); without it that route answers 503")(
      "backup-rate-limit", po::value(&o.backup_rate_limit)->default_value(o.backup_rate_limit),
      "bytes a second a backup may copy at most, so that it leaves the disk to the log; 0: no limit");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "tokenledger: " << e.what() << "\n(see tokenledger --help)\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (vm.count("help")) {
    std::cout << desc << "\nEnvironment:\n"
              << "  TOKENLEDGER_INTROSPECTION_SECRET  the introspection credential (instead of the file)\n"
              << "  TOKENLEDGER_ADMIN_PASSWORD        password of the first account, admin, when the database is "
                 "empty\n                                    (otherwise one is generated and printed once)\n"
              << "  TOKENLEDGER_PG_URL                the event log on PostgreSQL (as --log)\n"
              << "  SPDLOG_LEVEL                      log levels, overriding --log-level\n";
    exit_code = 0;
    return std::nullopt;
  }
  if (vm.count("version")) {
    std::cout << version_text("tokenledger", build_info(rocksdb_version()));
    exit_code = 0;
    return std::nullopt;
  }
  if (o.verify_on_start != "full" && o.verify_on_start != "tail" && o.verify_on_start != "off") {
    std::cerr << "tokenledger: --verify-on-start must be full, tail or off\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (vm.count("checkpoint-minutes")) {
    if (!vm["checkpoint-seconds"].defaulted()) {
      std::cerr << "tokenledger: give --checkpoint-seconds or --checkpoint-minutes, not both\n";
      exit_code = 2;
      return std::nullopt;
    }
    o.checkpoint_seconds = vm["checkpoint-minutes"].as<int>() * 60;
  }
  if (o.max_streams_per_user < 0) {
    std::cerr << "tokenledger: --max-streams-per-user must be 0 or more\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (o.checkpoint_seconds < 0 || o.scrub_hours < 0) {
    std::cerr << "tokenledger: --checkpoint-seconds and --scrub-hours must be 0 or more\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (o.shred_seconds < 1) {
    std::cerr << "tokenledger: --shred-seconds must be 1 or more\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (o.max_staleness_seconds < 1) {
    std::cerr << "tokenledger: --max-staleness must be 1 or more (seconds)\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (o.reveal_rate < 0) {
    std::cerr << "tokenledger: --reveal-rate must be 0 (no limit) or more\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    std::cerr << "tokenledger: --tls-cert and --tls-key go together: give both to serve HTTPS, or neither\n";
    exit_code = 2;
    return std::nullopt;
  }
  for (const auto& url : o.public_urls) {
    if (auto parsed = parse_public_url(url); !parsed) {
      std::cerr << "tokenledger: " << parsed.error().message << "\n";
      exit_code = 2;
      return std::nullopt;
    }
  }
  for (const auto& cidr : o.trusted_proxies) {
    if (!parse_cidr(cidr)) {
      std::cerr << "tokenledger: --trusted-proxy '" << cidr
                << "': give an address or a range like 10.0.0.0/8 or fd00::/8\n";
      exit_code = 2;
      return std::nullopt;
    }
  }
  if (o.log.empty()) {
    if (const char* env = std::getenv("TOKENLEDGER_PG_URL"); env != nullptr) o.log = env;
  }
  if (!o.log.empty() && !is_pg_url(o.log)) {
    std::cerr << "tokenledger: --log (or TOKENLEDGER_PG_URL) must be a PostgreSQL URI, postgresql://…; leave it out "
                 "for the embedded log in --data\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (!o.log.empty() && !o.backup_dir.empty()) {
    std::cerr << "tokenledger: --backup-dir backs up the embedded log; a PostgreSQL log is backed up by PostgreSQL "
                 "(pg_basebackup, or its replicas)\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (o.log.empty() && o.pg_allow_async) {
    std::cerr << "tokenledger: --pg-allow-async goes with --log postgresql://…\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (o.master_key_file.empty()) o.master_key_file = (fs::path(o.data) / "master.key").string();
  if (o.signing_key_file.empty()) o.signing_key_file = (fs::path(o.data) / "signing.key").string();
  if (o.webhook_secret_file.empty()) o.webhook_secret_file = (fs::path(o.data) / "webhook.secret").string();
  if (o.introspection_secret_file.empty()) {
    o.introspection_secret_file = (fs::path(o.data) / "introspection.secret").string();
  }
  return o;
}

}  // namespace tl
