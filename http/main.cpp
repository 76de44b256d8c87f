// tokenledger: the server. Parses options, opens the log, checks it and its key material
// (http/startup.hpp), loads the projections, creates the first admin account when the database
// is empty, and serves HTTP until SIGTERM or SIGINT, then shuts down in order.
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "eventstore/database_id.hpp"
#include "eventstore/tree_heads.hpp"
#include "http/access_lifecycle.hpp"
#include "http/server.hpp"
#include "http/server_options.hpp"
#include "http/startup.hpp"
#include "http/tls.hpp"
#include "http/webhook_client.hpp"
#include "service/expiry_notifier.hpp"
#include "service/integrity_guard.hpp"
#include "service/key_material.hpp"

namespace tl {
namespace {

void start_logging(const ServerOptions& o) {
  auto logger = spdlog::stderr_color_mt("tokenledger");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(o.log_level));
  spdlog::cfg::load_env_levels();
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
}

// ADDRESS:PORT (an IPv6 address in brackets) as the address without brackets and the port.
std::pair<std::string, unsigned short> split_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("--listen must be ADDRESS:PORT, e.g. 127.0.0.1:8080");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const int port = std::stoi(listen.substr(colon + 1));
  if (port < 0 || port > 65535) throw std::runtime_error("--listen: the port must be 0 to 65535");
  return {host, static_cast<unsigned short>(port)};
}

// The URL a bound listener answers on, for the log and the welcome text.
std::string url_of(bool tls, const std::string& host, const net::tcp::endpoint& bound, std::string_view path) {
  return std::string(tls ? "https://" : "http://") + (bound.address().is_v6() ? "[" + host + "]" : host) + ":" +
         std::to_string(bound.port()) + std::string(path);
}

// Projections folded from the log; a log they cannot fold stops the start unless --read-only.
// Then the master key is checked against the log and, on a writable server, the database id
// recorded.
void load_projections(ReadModel& model, EventLog& store, const TokenSecrets& secrets, const ServerOptions& o,
                      bool writable) {
  if (auto loaded = model.load(); !loaded) {
    if (!o.read_only) throw std::runtime_error("projections: " + loaded.error().message);
    spdlog::error("projections folded only to seq {}: {}", model.folded_seq(), loaded.error().message);
  }
  must(check_master_key(store, secrets, o.master_key_file, writable), "master key");
  if (writable) must(ensure_database_id(store), "database id");
}

// The services the handlers call, over the log and the projections.
struct Services {
  Services(EventLog& store, ReadModel& model, const TokenSecrets& secrets, const ServerOptions& o)
      : usage(store, model.tokens(), std::chrono::minutes(o.usage_log_minutes)),
        tokens(store, model, secrets, o.max_tokens, &usage),
        users(store, model),
        // Servers that share a PostgreSQL log share the sessions too (any of them serves any request).
        sessions(std::chrono::minutes(o.session_idle_minutes), std::chrono::minutes(o.session_lifetime_minutes),
                 o.log.empty() ? memory_session_table() : shared_session_table(store)) {}

  UsageTracker usage;
  TokenService tokens;
  UserService users;
  SessionStore sessions;
  LoginThrottle throttle;
};

// The first admin account of an empty database: its one-time password ("" when it came from
// TOKENLEDGER_ADMIN_PASSWORD), or nullopt when none was created (or the server cannot write).
std::optional<std::string> bootstrap_admin(UserService& users, bool writable) {
  if (!writable) return std::nullopt;
  const char* admin_env = std::getenv("TOKENLEDGER_ADMIN_PASSWORD");
  return must(users.bootstrap_admin(admin_env ? admin_env : ""),
              admin_env ? "first admin account (TOKENLEDGER_ADMIN_PASSWORD)" : "first admin account");
}

HttpSettings http_settings(const ServerOptions& o, bool tls, std::string metrics_secret) {
  HttpSettings settings{.body_limit = o.body_limit, .tls = tls, .reveal_reauth_minutes = o.reveal_reauth_minutes};
  for (const auto& url : o.public_urls) settings.public_urls.push_back(must(parse_public_url(url), "--public-url"));
  for (const auto& cidr : o.trusted_proxies) settings.trusted_proxies.push_back(*parse_cidr(cidr));
  settings.max_streams_per_user = static_cast<std::size_t>(o.max_streams_per_user);
  settings.metrics_secret = std::move(metrics_secret);
  settings.metrics_listener = !o.metrics_listen.empty();
  settings.max_staleness = std::chrono::seconds(o.max_staleness_seconds);
  return settings;
}

// --webhook-url: expiry warnings, scanned for in the background once started.
struct ExpiryNotices {
  std::unique_ptr<WebhookClient> webhook;
  std::unique_ptr<ExpiryNotifier> notifier;
};

ExpiryNotices start_expiry_notices(EventLog& store, ReadModel& model, const ServerOptions& o) {
  ExpiryNotices notices;
  if (o.webhook_url.empty()) return notices;
  auto target = must(parse_webhook_url(o.webhook_url), "webhook");
  notices.webhook = std::make_unique<WebhookClient>(
      target, load_secret(o.webhook_secret_file, "webhook secret (--webhook-secret-file)"), o.webhook_attempts,
      std::chrono::milliseconds(o.webhook_backoff_ms));
  notices.notifier = std::make_unique<ExpiryNotifier>(
      store, model,
      [client = notices.webhook.get()](const std::string& body, const std::string& id) {
        return client->deliver(body, id);
      },
      std::chrono::seconds(o.expiry_scan_seconds));
  notices.notifier->start();
  spdlog::info("expiry warnings go to {}", o.webhook_url);
  return notices;
}

// The listeners, bound (so a port taken stops the start) and started: --listen, and
// --metrics-listen when given (only /metrics and /healthz, without a secret).
struct Listeners {
  std::unique_ptr<Server> main;
  std::unique_ptr<Server> metrics;
  std::string url;          // the main listener's, ending in "/"
  std::string metrics_url;  // empty without --metrics-listen
};

Listeners start_listeners(App& app, net::asio::io_context& io, net::asio::thread_pool& workers, const ServerOptions& o,
                          std::shared_ptr<net::asio::ssl::context> tls) {
  Listeners listeners;
  const auto [host, port] = split_listen(o.listen);
  listeners.main = std::make_unique<Server>(app, io, workers);
  listeners.main->set_limits({.max_connections = o.max_connections, .max_per_address = o.max_connections_per_ip});
  if (tls) listeners.main->use_tls(tls);
  const auto bound = listeners.main->listen(host, port);
  if (!o.metrics_listen.empty()) {
    const auto [metrics_host, metrics_port] = split_listen(o.metrics_listen);
    listeners.metrics = std::make_unique<Server>(app, io, workers);
    listeners.metrics->serve_metrics_only();
    listeners.metrics->set_limits({.max_connections = 64});
    const auto metrics_bound = listeners.metrics->listen(metrics_host, metrics_port);
    listeners.metrics_url = url_of(false, metrics_host, metrics_bound, "/metrics");
    listeners.metrics->start();
  }
  listeners.url = url_of(tls != nullptr, host, bound, "/");
  listeners.main->start();
  return listeners;
}

// Signs the head now and then, on a worker (a synced write), so auditors can prove later that
// history up to it was never rewritten; witnesses that failed are retried meanwhile.
class CheckpointTimer {
 public:
  CheckpointTimer(net::asio::io_context& io, net::asio::thread_pool& workers, EventLog& store, IntegrityGuard& guard,
                  std::chrono::seconds every)
      : timer_(io), workers_(workers), store_(store), guard_(guard), every_(every) {}

  void start() { arm(); }
  void cancel() { timer_.cancel(); }

 private:
  void arm() {
    timer_.expires_after(every_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      net::asio::post(workers_, [this] {
        if (store_.head().seq == 0 || !guard_.vouched()) return;
        if (auto signed_head = guard_.sign_checkpoint(); !signed_head) {
          spdlog::warn("checkpoint not signed: {}", signed_head.error().message);
        }
      });
      arm();
    });
  }

  net::asio::steady_timer timer_;
  net::asio::thread_pool& workers_;
  EventLog& store_;
  IntegrityGuard& guard_;
  std::chrono::seconds every_;
};

// What the operator must see once, on stdout (never in the log): the first admin's password,
// a new signing key's public key, and where to sign in.
void print_welcome(const std::optional<std::string>& bootstrap, const KeyMaterial& keys, const std::string& url) {
  if (bootstrap) {
    std::cout << "\n  First account created: user 'admin' (group admins)\n";
    if (!bootstrap->empty()) {
      std::cout << "  Its password, shown only this once: " << *bootstrap << "\n";
    } else {
      std::cout << "  Its password is the one in TOKENLEDGER_ADMIN_PASSWORD.\n";
    }
  }
  if (keys.new_signing_key) {
    std::cout << "\n  Checkpoints are signed with the Ed25519 public key\n  " << keys.signer->public_key_hex()
              << "\n  Keep it apart from this machine: `tokenledger-admin verify --public-key` checks against it.\n";
  }
  std::cout << "\n  tokenledger is serving: open " << url << " and sign in.\n\n" << std::flush;
}

// Runs the I/O loop on --io-threads threads until the listeners stop (a signal), then waits for
// the workers.
void serve(net::asio::io_context& io, net::asio::thread_pool& workers, int io_threads) {
  std::vector<std::thread> threads;
  for (int i = 1; i < io_threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  workers.join();
}

// Once nothing serves: the background work stopped, every queued append written, then (unless
// read-only) a projection checkpoint and a signed checkpoint of the head, and the log closed.
int shut_down(EventLog& store, ReadModel& model, IntegrityGuard& guard, Services& services, ExpiryNotices& notices,
              AccessEvents& access, const ServerOptions& o, bool writable) {
  guard.stop();
  if (notices.notifier) notices.notifier->stop();
  if (writable) services.usage.flush();
  record_stop(access, services.sessions);
  store.stop_appender();  // every queued append is written before this returns
  if (o.read_only) {
    spdlog::info("stopped (read-only) at seq {}", store.head().seq);
    store.close();
    return 0;
  }
  if (auto saved = model.save_checkpoint(); !saved) spdlog::warn("checkpoint: {}", saved.error().message);
  if (store.head().seq > 0) {
    // Refused when damage was found: never a signature over a log that failed a check.
    if (auto signed_head = guard.sign_checkpoint(); !signed_head) {
      spdlog::warn("checkpoint not signed: {}", signed_head.error().message);
    }
  }
  spdlog::info("stopped cleanly at seq {}", store.head().seq);
  store.close();
  return 0;
}

int run(const ServerOptions& o) {
  start_logging(o);
  split_listen(o.listen);  // a bad --listen stops the start before anything is done
  // Before anything is written (the first admin's one-time password among it), so that a bad
  // certificate stops the start with nothing done.
  std::shared_ptr<net::asio::ssl::context> tls;
  if (!o.tls_cert.empty()) tls = make_tls_context(o.tls_cert, o.tls_key);
  std::string metrics_secret;
  if (!o.metrics_secret_file.empty()) {
    metrics_secret =
        must(read_secret_file(o.metrics_secret_file, "metrics secret (--metrics-secret-file)"), "metrics secret");
  }
  prepare_data_dir(o);

  const std::optional<SharedFileLock> read_only_lock = claim_data_dir(o);
  auto store = open_store(o);
  check_backup_dir_at_start(*store, o);  // before anything is written
  KeyMaterial keys = load_key_material(*store, o);
  std::unique_ptr<WebhookClient> witness_client;
  Witnesses witnesses(o.witness_file, witness_poster(o, witness_client));
  IntegrityGuard guard(
      *store, *keys.signer, witnesses,
      {.witness_file = o.witness_file, .scrub_interval = std::chrono::hours(o.scrub_hours), .read_only = o.read_only});
  const bool writable = check_log_at_start(*store, o, guard, *keys.signer);
  ReadModel model(*store);
  MerkleIndex merkle(*store);
  load_projections(model, *store, *keys.secrets, o, writable);
  // A log the tree cannot be folded over (records missing or unreadable) is damage the start-up
  // checks or the scrub report; serving goes on, and proofs past what was folded are refused.
  if (auto loaded = merkle.load(); !loaded) {
    spdlog::error("{} (folded {} of {} events): proofs beyond them are refused", loaded.error().message, merkle.size(),
                  store->head().seq);
  }
  guard.sign_tree_heads(&merkle, tree_head_origin(must(read_database_id(*store), "database id").value_or("unknown")));
  store->follow_others();  // a PostgreSQL log: the other nodes' appends fold in from here on
  Services services(*store, model, *keys.secrets, o);
  const std::optional<std::string> bootstrap = bootstrap_admin(services.users, writable);
  if (o.read_only) {
    spdlog::warn(
        "serving read-only (--read-only): every write answers 503 unavailable until the server is started "
        "again without --read-only");
  }
  // The head as it stands is signed (and witnessed) now, once a full check vouched for the log: at
  // the first start this hands the witness the public key, after a crash it covers what the last
  // run wrote. Otherwise the first scrub signs it when it passes.
  if (writable && guard.vouched()) {
    if (auto signed_head = guard.sign_checkpoint(); !signed_head) {
      spdlog::warn("checkpoint not signed: {}", signed_head.error().message);
    }
  }

  App app{*store,
          model,
          services.tokens,
          services.users,
          services.sessions,
          services.throttle,
          *keys.signer,
          guard,
          keys.introspection_secret,
          http_settings(o, tls != nullptr, std::move(metrics_secret)),
          {}};
  RateLimiter reveal_limiter(static_cast<std::uint32_t>(o.reveal_rate));
  if (reveal_limiter.enabled()) app.reveal_limiter = &reveal_limiter;
  ExpiryNotices notices = start_expiry_notices(*store, model, o);
  app.notifier = notices.notifier.get();
  // Online backups (POST /api/v1/admin/backups): the checkpoint is made beside the database.
  BackupRunner backups(dynamic_cast<EventStore*>(store.get()),
                       {o.backup_dir,
                        o.data,
                        {o.master_key_file, o.introspection_secret_file, o.signing_key_file},
                        (std::filesystem::path(o.data) / "backup-checkpoint.tmp").string(),
                        {.rate_limit = o.backup_rate_limit}});
  app.backups = &backups;
  // Access events: dropped and counted when the log refuses writes (read-only, damage).
  AccessEvents access(*store, *keys.secrets);
  app.access = &access;
  app.merkle = &merkle;
  access.record(server_started_event(o, guard), server_actor(), {});

  net::asio::io_context io(o.io_threads);
  net::asio::thread_pool workers(static_cast<std::size_t>(o.workers));
  Listeners listeners = start_listeners(app, io, workers, o, tls);
  guard.start_scrub();
  CheckpointTimer checkpoints(io, workers, *store, guard, std::chrono::seconds(o.checkpoint_seconds));
  if (o.checkpoint_seconds > 0 && !o.read_only) checkpoints.start();
  AccessSweep access_sweep(io, workers, app, std::chrono::seconds(5));
  access_sweep.start();
  net::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {} received: finishing in-flight requests, then stopping", signal);
    checkpoints.cancel();
    access_sweep.cancel();
    backups.stop();  // a backup being copied stops rather than hold the shutdown for its length
    if (listeners.metrics) listeners.metrics->stop();
    listeners.main->stop();
  });

  if (!listeners.metrics_url.empty()) spdlog::info("metrics on {}", listeners.metrics_url);
  spdlog::info("listening on {}", listeners.url.substr(0, listeners.url.size() - 1));
  print_welcome(bootstrap, keys, listeners.url);
  serve(io, workers, o.io_threads);
  return shut_down(*store, model, guard, services, notices, access, o, writable);
}

}  // namespace
}  // namespace tl

int main(int argc, char** argv) {
  // Everything the server writes (RocksDB's files and logs included) is for its own user only.
  ::umask(077);
  int exit_code = 0;
  auto options = tl::parse_server_options(argc, argv, exit_code);
  if (!options) return exit_code;
  try {
    return tl::run(*options);
  } catch (const std::exception& e) {
    std::cerr << "tokenledger: cannot start: " << e.what() << "\n";
    return 1;
  }
}
