// tokenledger: the server. Parses options, opens the log, checks it and its key material,
// loads the projections, creates the first admin account when the database is empty, and serves
// HTTP until SIGTERM or SIGINT.
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <thread>

#include "eventstore/codec.hpp"
#include "eventstore/database_id.hpp"
#include "eventstore/signed_checkpoints.hpp"
#include "eventstore/token_secrets.hpp"
#include "http/server.hpp"
#include "http/server_options.hpp"
#include "http/tls.hpp"
#include "http/webhook_client.hpp"
#include "service/expiry_notifier.hpp"
#include "service/integrity_guard.hpp"
#include "service/key_material.hpp"

namespace fs = std::filesystem;

namespace {

std::pair<std::string, unsigned short> split_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("--listen must be ADDRESS:PORT, e.g. 127.0.0.1:8080");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const int port = std::stoi(listen.substr(colon + 1));
  if (port < 0 || port > 65535) throw std::runtime_error("--listen: the port must be 0 to 65535");
  return {host, static_cast<unsigned short>(port)};
}

template <class T>
T must(tl::Result<T> r, std::string_view what) {
  if (!r) throw std::runtime_error(std::string(what) + ": " + r.error().message);
  return std::move(r).value();
}

void must(const tl::Status& s, std::string_view what) {
  if (!s) throw std::runtime_error(std::string(what) + ": " + s.error().message);
}

// ---- Start-up checks of the log ------------------------------------------------------------
// A failed check stops the start, naming the cause and `tokenledger-admin verify`; with
// --read-only the server starts anyway, serving reads, unready, so the damage can be looked at.
void refuse_or_mark(const tl::ServerOptions& o, tl::IntegrityGuard& guard, const tl::IntegrityReport& report) {
  const std::string what = "the event log is damaged: first bad seq " + std::to_string(report.first_bad_seq) + " (" +
                           report.kind + ": " + report.problem + "). Run `tokenledger-admin verify --data " + o.data +
                           "` for a full report; start with --read-only to investigate";
  if (!o.read_only) throw std::runtime_error(what);
  spdlog::error("{}; serving read-only, not ready", what);
  guard.report_damage(report);
}

// --verify-on-start tail: the records from the newest signed checkpoint (checked just before
// against the log and the signing key, so its record's bytes, hence its prev_hash, are vouched
// for) to the head; full: every record; off: no walk (the cheap checks still run).
tl::VerifyReport walk_on_start(const tl::EventStore& store, const std::string& mode, std::uint64_t& from) {
  from = 1;
  if (mode == "tail") {
    if (auto checkpoints = tl::list_checkpoints(store); checkpoints && !checkpoints->empty()) {
      const auto& newest = checkpoints->back();
      if (auto raw = store.read_raw(newest.seq); raw && *raw) {
        if (auto record = tl::decode_record(**raw); record && record->hash == newest.hash) {
          from = newest.seq;
          return store.verify_from(newest.seq, record->prev_hash);
        }
      }
    }
  }
  return store.verify();
}

void check_log_on_start(tl::EventStore& store, const tl::ServerOptions& o, tl::IntegrityGuard& guard,
                        const tl::IntegrityOptions& check) {
  const auto started = std::chrono::steady_clock::now();
  tl::IntegrityReport report = tl::check_at_start(store, check);
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
  }
  // A small log is checked in full before serving (well under a second), so checkpoints can be
  // signed at once; a larger one is vouched for by the first background scrub.
  if (store.head().seq <= o.start_full_check_limit) {
    const tl::IntegrityReport full = tl::check_integrity(store, check);
    if (!full.ok) return refuse_or_mark(o, guard, full);
    guard.vouch();
  } else if (o.verify_on_start == "full" || o.scrub_hours == 0) {
    guard.vouch();  // the whole chain was walked, or no scrub will come: the start-up checks are all there is
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  spdlog::info("start-up checks passed in {} ms: head marker, {} signed and {} witnessed checkpoints, projection "
               "checkpoint",
               ms.count(), report.checkpoints, report.witnessed);
  if (auto checkpoints = tl::list_checkpoints(store); checkpoints && !checkpoints->empty() && !o.read_only) {
    if (auto remembered = tl::remember_verified_checkpoint(store, checkpoints->back().seq); !remembered) {
      spdlog::warn("could not remember the verified checkpoint: {}", remembered.error().message);
    }
  }
}
// ---------------------------------------------------------------------------------------------

// A signing key that is not the one the database's checkpoints were signed with is a key
// problem, not damage to the log: say so, naming both public keys.
void check_signing_key(const tl::EventStore& store, const tl::CheckpointSigner& signer, const tl::ServerOptions& o) {
  auto checkpoints = tl::list_checkpoints(store);
  if (!checkpoints || checkpoints->empty() || checkpoints->back().public_key == signer.public_key_hex()) return;
  const std::string what = "the signing key " + o.signing_key_file + " (public key " + signer.public_key_hex() +
                           ") is not the one this database's checkpoints are signed with (public key " +
                           checkpoints->back().public_key + "). Restore this database's signing.key";
  if (!o.read_only) throw std::runtime_error(what);
  spdlog::error("{}", what);
}

// Key files others can read stop the start, like ssh with such a private key (issue 12).
void check_key_files_private(const tl::ServerOptions& o) {
  must(tl::require_private_file(o.master_key_file, "master key (--master-key-file)"), "master key");
  must(tl::require_private_file(o.signing_key_file, "checkpoint signing key (--signing-key-file)"), "signing key");
  must(tl::require_private_file(o.webhook_secret_file, "webhook secret (--webhook-secret-file)"), "webhook secret");
  if (const char* env = std::getenv("TOKENLEDGER_INTROSPECTION_SECRET"); env == nullptr || *env == '\0') {
    must(tl::require_private_file(o.introspection_secret_file, "introspection secret (--introspection-secret-file)"),
         "introspection secret");
  }
}

// A secret file as it is (private, long enough: service/key_material.hpp), or made 0600 when missing.
std::string load_secret(const std::string& path, std::string_view what) {
  if (fs::exists(path)) return must(tl::read_secret_file(path, what), "key file");
  return must(tl::load_or_create_secret_file(path), std::string(what));
}

std::string load_introspection_secret(const tl::EventStore& store, const tl::ServerOptions& o) {
  if (const char* env = std::getenv("TOKENLEDGER_INTROSPECTION_SECRET"); env != nullptr && *env != '\0') {
    must(tl::check_secret_length(env, "TOKENLEDGER_INTROSPECTION_SECRET"), "introspection secret");
    return env;
  }
  must(tl::require_key_file(store, o.introspection_secret_file, "introspection secret (--introspection-secret-file)"),
       "introspection secret");
  return load_secret(o.introspection_secret_file, "introspection secret (--introspection-secret-file)");
}

std::function<bool(const std::string&)> witness_poster(const tl::ServerOptions& o,
                                                       std::unique_ptr<tl::WebhookClient>& client) {
  if (o.witness_url.empty()) return {};
  client = std::make_unique<tl::WebhookClient>(must(tl::parse_webhook_url(o.witness_url), "--witness-url"),
                                               load_secret(o.webhook_secret_file, "webhook secret (--webhook-secret-file)"),
                                               3, std::chrono::milliseconds(500));
  return [&client](const std::string& line) { return client->deliver(line, "checkpoint"); };
}

int run(const tl::ServerOptions& o) {
  auto logger = spdlog::stderr_color_mt("tokenledger");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(o.log_level));
  spdlog::cfg::load_env_levels();
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);

  const auto [host, port] = split_listen(o.listen);
  // Before anything is written (the first admin's one-time password among it), so that a bad
  // certificate stops the start with nothing done.
  std::shared_ptr<boost::asio::ssl::context> tls;
  if (!o.tls_cert.empty()) tls = tl::make_tls_context(o.tls_cert, o.tls_key);
  const std::string metrics_secret = o.metrics_secret_file.empty() ? "" : must(tl::read_secret_file(o.metrics_secret_file, "metrics secret (--metrics-secret-file)"), "metrics secret");
  fs::create_directories(o.data);
  fs::permissions(o.data, fs::perms::owner_all, fs::perm_options::replace);
  check_key_files_private(o);  // before the data directory is tightened, which would hide a loose key file
  if (auto loosened = tl::make_data_dir_private(o.data); loosened > 0) {
    spdlog::warn("{} files or folders under {} were readable by other users; made them 0600/0700", loosened, o.data);
  }

  auto store = must(tl::EventStore::open((fs::path(o.data) / "db").string(),
                                         {.extra_column_families = tl::ReadModel::column_families(),
                                          .read_only = o.read_only,
                                          .min_free_bytes = o.min_free_mb * 1024 * 1024,
                                          .shred_after = std::chrono::seconds(o.shred_seconds)}),
                    "event log");
  // Key material of a database with history is never created again (service/key_material.hpp).
  must(tl::require_key_file(*store, o.master_key_file, "master key (--master-key-file)"), "master key");
  must(tl::require_key_file(*store, o.signing_key_file, "checkpoint signing key (--signing-key-file)"), "signing key");
  const std::string introspection_secret = load_introspection_secret(*store, o);
  const bool new_signing_key = !fs::exists(o.signing_key_file);
  const auto master_key = must(tl::load_or_create_key_file(o.master_key_file), "master key");
  auto signer = must(tl::CheckpointSigner::load_or_create(o.signing_key_file), "checkpoint signing key");
  tl::TokenSecrets secrets(master_key);

  std::unique_ptr<tl::WebhookClient> witness_client;
  tl::Witnesses witnesses(o.witness_file, witness_poster(o, witness_client));
  tl::IntegrityGuard guard(*store, *signer, witnesses,
                           {.witness_file = o.witness_file,
                            .scrub_interval = std::chrono::hours(o.scrub_hours),
                            .read_only = o.read_only});
  check_signing_key(*store, *signer, o);
  tl::IntegrityOptions check;
  check.trusted_public_key = signer->public_key_hex();
  if (!o.witness_file.empty()) check.witnessed = must(tl::read_witness_file(o.witness_file, true), "--witness-file");
  check_log_on_start(*store, o, guard, check);
  const bool writable = !o.read_only && !guard.damage();

  tl::ReadModel model(*store);
  if (auto loaded = model.load(); !loaded) {
    if (!o.read_only) throw std::runtime_error("projections: " + loaded.error().message);
    spdlog::error("projections folded only to seq {}: {}", model.folded_seq(), loaded.error().message);
  }
  must(tl::check_master_key(*store, secrets, o.master_key_file, writable), "master key");
  if (writable) must(tl::ensure_database_id(*store), "database id");

  tl::UsageTracker usage(*store, model.tokens(), std::chrono::minutes(o.usage_log_minutes));
  tl::TokenService tokens(*store, model, secrets, o.max_tokens, &usage);
  tl::UserService users(*store, model);
  tl::SessionStore sessions(std::chrono::minutes(o.session_idle_minutes),
                            std::chrono::minutes(o.session_lifetime_minutes));
  tl::LoginThrottle throttle;

  const char* admin_env = std::getenv("TOKENLEDGER_ADMIN_PASSWORD");
  std::optional<std::string> bootstrap;
  if (writable) {
    bootstrap = must(users.bootstrap_admin(admin_env ? admin_env : ""),
                     admin_env ? "first admin account (TOKENLEDGER_ADMIN_PASSWORD)" : "first admin account");
  }
  if (o.read_only) spdlog::warn("read-only: every write answers 503 unavailable");
  // The head as it stands is signed (and witnessed) now, once a full check vouched for the log: at
  // the first start this hands the witness the public key, after a crash it covers what the last
  // run wrote. Otherwise the first scrub signs it when it passes.
  if (writable && guard.vouched()) {
    if (auto signed_head = guard.sign_checkpoint(); !signed_head) {
      spdlog::warn("checkpoint not signed: {}", signed_head.error().message);
    }
  }

  tl::App app{*store, model, tokens, users, sessions, throttle, *signer, guard, introspection_secret,
              {.body_limit = o.body_limit, .tls = tls != nullptr, .reveal_reauth_minutes = o.reveal_reauth_minutes},
              {}};
  app.settings.metrics_secret = metrics_secret;
  app.settings.metrics_listener = !o.metrics_listen.empty();
  tl::RateLimiter reveal_limiter(static_cast<std::uint32_t>(o.reveal_rate));
  if (reveal_limiter.enabled()) app.reveal_limiter = &reveal_limiter;
  std::unique_ptr<tl::WebhookClient> webhook;
  std::unique_ptr<tl::ExpiryNotifier> notifier;
  if (!o.webhook_url.empty()) {
    auto target = must(tl::parse_webhook_url(o.webhook_url), "webhook");
    webhook = std::make_unique<tl::WebhookClient>(target, load_secret(o.webhook_secret_file, "webhook secret (--webhook-secret-file)"),
                                                  o.webhook_attempts, std::chrono::milliseconds(o.webhook_backoff_ms));
    notifier = std::make_unique<tl::ExpiryNotifier>(
        *store, model, [&webhook](const std::string& body, const std::string& id) { return webhook->deliver(body, id); },
        std::chrono::seconds(o.expiry_scan_seconds));
    notifier->start();
    spdlog::info("expiry warnings go to {}", o.webhook_url);
  }
  app.notifier = notifier.get();
  for (const auto& url : o.public_urls) app.settings.public_urls.push_back(must(tl::parse_public_url(url), "--public-url"));
  for (const auto& cidr : o.trusted_proxies) app.settings.trusted_proxies.push_back(*tl::parse_cidr(cidr));
  app.settings.max_streams_per_user = static_cast<std::size_t>(o.max_streams_per_user);
  tl::net::asio::io_context io(o.io_threads);
  tl::net::asio::thread_pool workers(static_cast<std::size_t>(o.workers));
  tl::Server server(app, io, workers);
  server.set_limits({.max_connections = o.max_connections, .max_per_address = o.max_connections_per_ip});
  if (tls) server.use_tls(tls);
  const auto bound = server.listen(host, port);
  std::unique_ptr<tl::Server> metrics_server;
  std::string metrics_url;
  if (!o.metrics_listen.empty()) {
    const auto [metrics_host, metrics_port] = split_listen(o.metrics_listen);
    metrics_server = std::make_unique<tl::Server>(app, io, workers);
    metrics_server->serve_metrics_only();
    metrics_server->set_limits({.max_connections = 64});
    const auto metrics_bound = metrics_server->listen(metrics_host, metrics_port);
    metrics_url = "http://" + (metrics_bound.address().is_v6() ? "[" + metrics_host + "]" : metrics_host) + ":" +
                  std::to_string(metrics_bound.port()) + "/metrics";
    metrics_server->start();
  }
  const std::string url = std::string(tls ? "https://" : "http://") +
                          (bound.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(bound.port()) + "/";
  server.start();
  guard.start_scrub();

  // Signs the head now and then, on a worker (a synced write), so auditors can prove later
  // that history up to it was never rewritten; witnesses that failed are retried meanwhile.
  tl::net::asio::steady_timer checkpoint_timer(io);
  std::function<void()> schedule_checkpoint = [&] {
    checkpoint_timer.expires_after(std::chrono::seconds(o.checkpoint_seconds));
    checkpoint_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      tl::net::asio::post(workers, [&] {
        if (store->head().seq == 0 || !guard.vouched()) return;
        if (auto signed_head = guard.sign_checkpoint(); !signed_head) {
          spdlog::warn("checkpoint not signed: {}", signed_head.error().message);
        }
      });
      schedule_checkpoint();
    });
  };
  if (o.checkpoint_seconds > 0 && !o.read_only) schedule_checkpoint();

  tl::net::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {} received: finishing in-flight requests, then stopping", signal);
    checkpoint_timer.cancel();
    if (metrics_server) metrics_server->stop();
    server.stop();
  });

  if (!metrics_url.empty()) spdlog::info("metrics on {}", metrics_url);
  spdlog::info("listening on {}", url.substr(0, url.size() - 1));
  if (bootstrap) {
    std::cout << "\n  First account created: user 'admin' (group admins)\n";
    if (!bootstrap->empty()) {
      std::cout << "  Its password, shown only this once: " << *bootstrap << "\n";
    } else {
      std::cout << "  Its password is the one in TOKENLEDGER_ADMIN_PASSWORD.\n";
    }
  }
  if (new_signing_key) {
    std::cout << "\n  Checkpoints are signed with the Ed25519 public key\n  " << signer->public_key_hex()
              << "\n  Keep it apart from this machine: `tokenledger-admin verify --public-key` checks against it.\n";
  }
  std::cout << "\n  tokenledger is serving: open " << url << " and sign in.\n\n" << std::flush;

  std::vector<std::thread> threads;
  for (int i = 1; i < o.io_threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  workers.join();
  guard.stop();
  if (notifier) notifier->stop();
  if (writable) usage.flush();
  store->stop_appender();  // every queued append is written before this returns
  if (o.read_only) {
    spdlog::info("stopped (read-only) at seq {}", store->head().seq);
    store->close();
    return 0;
  }
  if (auto saved = model.save_checkpoint(); !saved) spdlog::warn("checkpoint: {}", saved.error().message);
  if (store->head().seq > 0) {
    // Refused when damage was found: never a signature over a log that failed a check.
    if (auto signed_head = guard.sign_checkpoint(); !signed_head) {
      spdlog::warn("checkpoint not signed: {}", signed_head.error().message);
    }
  }
  spdlog::info("stopped cleanly at seq {}", store->head().seq);
  store->close();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Everything the server writes (RocksDB's files and logs included) is for its own user only.
  ::umask(077);
  int exit_code = 0;
  auto options = tl::parse_server_options(argc, argv, exit_code);
  if (!options) return exit_code;
  try {
    return run(*options);
  } catch (const std::exception& e) {
    std::cerr << "tokenledger: cannot start: " << e.what() << "\n";
    return 1;
  }
}
