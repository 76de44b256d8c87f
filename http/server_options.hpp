// The server's command line (tokenledger --help lists every option).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tl {

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";
  std::string tls_cert;  // both or neither: HTTPS
  std::string tls_key;
  std::string data = "./data";
  // Where the event log is (issue 19): empty for the embedded RocksDB database in DATA/db, or a
  // PostgreSQL URI (postgresql://…; --log or TOKENLEDGER_PG_URL). allow_async: append without a
  // synchronous standby (one development instance).
  std::string log;
  bool pg_allow_async = false;
  // A PostgreSQL log: /readyz says "stale" once the database has not answered for this long.
  int max_staleness_seconds = 10;
  std::string master_key_file;
  std::string introspection_secret_file;
  std::string signing_key_file;
  int checkpoint_seconds = 60;
  std::string witness_file;
  std::string witness_url;
  int scrub_hours = 24;
  std::uint64_t start_full_check_limit = 50000;
  int usage_log_minutes = 60;
  int reveal_reauth_minutes = 0;
  std::string webhook_url;
  std::string webhook_secret_file;
  int webhook_attempts = 5;
  int webhook_backoff_ms = 1000;
  int expiry_scan_seconds = 60;
  std::string log_level = "info";
  int io_threads = 2;
  int workers = 64;
  std::size_t max_tokens = 100;
  std::size_t body_limit = 64 * 1024;
  std::size_t max_connections = 1024;
  int max_streams_per_user = 4;
  std::size_t max_connections_per_ip = 0;  // 0: a quarter of max_connections
  int reveal_rate = 600;                   // reveals per user a minute (burst as many); 0: no limit
  std::string metrics_secret_file;         // /metrics on the main listener for its bearer
  std::string metrics_listen;              // ADDR:PORT serving only /metrics and /healthz
  int session_idle_minutes = 30;
  int session_lifetime_minutes = 12 * 60;
  // Faults (issue 6): the start-up check of the chain, and an investigation mode.
  std::string verify_on_start = "tail";
  bool read_only = false;
  std::uint64_t min_free_mb = 32;
  // Within this many seconds of a token's deletion no file of DATA/db holds its data key (issue 12).
  int shred_seconds = 60;
  // The HTTP edge (issue 12): names and origins the server answers to, and the proxies whose
  // forwarded client address is believed. Checked by parse_server_options.
  std::vector<std::string> public_urls;
  std::vector<std::string> trusted_proxies;
  // Online backups (issue 16): where POST /api/v1/admin/backups writes (empty: not configured,
  // 503), and the most bytes a second the copy may write (0: no limit).
  std::string backup_dir;
  std::uint64_t backup_rate_limit = 0;
};

// Parses argv. nullopt when the process should exit with `exit_code` (after --help, or on bad
// options, which are named on stderr). Key-file options default to files in --data.
std::optional<ServerOptions> parse_server_options(int argc, char** argv, int& exit_code);

}  // namespace tl
