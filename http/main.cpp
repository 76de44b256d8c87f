// tokenledger: the server. Parses options, opens the log, loads the projections, creates the
// first admin account when the database is empty, and serves HTTP until SIGTERM or SIGINT.
#include <spdlog/cfg/env.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <thread>

#include "eventstore/codec.hpp"
#include "eventstore/signed_checkpoints.hpp"
#include "eventstore/token_secrets.hpp"
#include "http/server.hpp"
#include "http/tls.hpp"
#include "http/webhook_client.hpp"
#include "service/expiry_notifier.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

struct Options {
  std::string listen = "127.0.0.1:8080";
  std::string tls_cert;  // both or neither: HTTPS
  std::string tls_key;
  std::string data = "./data";
  std::string master_key_file;
  std::string introspection_secret_file;
  std::string signing_key_file;
  int checkpoint_minutes = 10;
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
  int session_idle_minutes = 30;
  int session_lifetime_minutes = 12 * 60;
  // Faults (issue 6): the start-up check of the chain, and an investigation mode.
  std::string verify_on_start = "tail";
  bool read_only = false;
  std::uint64_t min_free_mb = 32;
};

// Returns nullopt when the process should exit (after --help, or on bad options).
std::optional<Options> parse_options(int argc, char** argv, int& exit_code) {
  Options o;
  po::options_description desc("tokenledger: the API-token service\n\nUsage: tokenledger [options]\n\nOptions");
  desc.add_options()
      ("help,h", "print this help and exit")
      ("listen", po::value(&o.listen)->default_value(o.listen), "address:port to serve on; port 0 picks a free port")
      ("data", po::value(&o.data)->default_value(o.data), "directory of the RocksDB database and key material")
      ("tls-cert", po::value(&o.tls_cert),
       "serve HTTPS (TLS 1.2+) with this PEM certificate chain; needs --tls-key")
      ("tls-key", po::value(&o.tls_key), "the PEM private key of --tls-cert (unencrypted; keep it 0600)")
      ("master-key-file", po::value(&o.master_key_file), "the master key (created 0600 if missing) [DATA/master.key]")
      ("introspection-secret-file", po::value(&o.introspection_secret_file),
       "the service credential for /api/v1/introspect, unless TOKENLEDGER_INTROSPECTION_SECRET is set "
       "[DATA/introspection.secret, created 0600 if missing]")
      ("signing-key-file", po::value(&o.signing_key_file),
       "Ed25519 seed that signs checkpoints of the log's head (created 0600 if missing) [DATA/signing.key]")
      ("checkpoint-minutes", po::value(&o.checkpoint_minutes)->default_value(o.checkpoint_minutes),
       "sign a checkpoint of the head this often when the log has grown (and at shutdown)")
      ("usage-log-minutes", po::value(&o.usage_log_minutes)->default_value(o.usage_log_minutes),
       "log at most one TokenUsed per token this often (the exact last use is always shown)")
      ("webhook-url", po::value(&o.webhook_url),
       "http:// URL that receives expiry warnings (7 days, 1 day, expired), HMAC-signed; none by default")
      ("webhook-secret-file", po::value(&o.webhook_secret_file),
       "HMAC key of the webhook signatures (created 0600 if missing) [DATA/webhook.secret]")
      ("webhook-attempts", po::value(&o.webhook_attempts)->default_value(o.webhook_attempts),
       "delivery attempts per notice")
      ("webhook-backoff-ms", po::value(&o.webhook_backoff_ms)->default_value(o.webhook_backoff_ms),
       "wait before the first retry; doubled after each")
      ("expiry-scan-seconds", po::value(&o.expiry_scan_seconds)->default_value(o.expiry_scan_seconds),
       "how often tokens are checked for expiry warnings")
      ("reveal-reauth-minutes", po::value(&o.reveal_reauth_minutes)->default_value(o.reveal_reauth_minutes),
       "showing a code through the web UI needs the password typed within this many minutes; 0: never")
      ("log-level", po::value(&o.log_level)->default_value(o.log_level), "trace, debug, info, warn, error, critical, off")
      ("io-threads", po::value(&o.io_threads)->default_value(o.io_threads), "threads serving connections")
      ("workers", po::value(&o.workers)->default_value(o.workers),
       "threads for requests that write to the log (they wait on fsync together)")
      ("max-tokens-per-user", po::value(&o.max_tokens)->default_value(o.max_tokens), "live tokens a user may hold")
      ("body-limit", po::value(&o.body_limit)->default_value(o.body_limit), "largest request body, bytes")
      ("max-connections", po::value(&o.max_connections)->default_value(o.max_connections),
       "open connections at most; beyond, a new one is answered 503 and closed")
      ("session-idle-minutes", po::value(&o.session_idle_minutes)->default_value(o.session_idle_minutes),
       "a session ends after this long unused")
      ("session-lifetime-minutes", po::value(&o.session_lifetime_minutes)->default_value(o.session_lifetime_minutes),
       "a session ends this long after sign-in")
      ("verify-on-start", po::value(&o.verify_on_start)->default_value(o.verify_on_start),
       "check the log's hash chain before serving: full (from seq 1), tail (from the newest signed "
       "checkpoint the log still matches), off; a damaged log stops the start")
      ("min-free-mb", po::value(&o.min_free_mb)->default_value(o.min_free_mb),
       "refuse writes (503 unavailable, nothing written) while the data directory's disk has less "
       "free space than this; 0: no check")
      ("read-only", po::bool_switch(&o.read_only),
       "serve reads only, even from a damaged log (for investigation); every write answers 503");
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
              << "  SPDLOG_LEVEL                      log levels, overriding --log-level\n";
    exit_code = 0;
    return std::nullopt;
  }
  if (o.verify_on_start != "full" && o.verify_on_start != "tail" && o.verify_on_start != "off") {
    std::cerr << "tokenledger: --verify-on-start must be full, tail or off\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (o.tls_cert.empty() != o.tls_key.empty()) {
    std::cerr << "tokenledger: --tls-cert and --tls-key go together: give both to serve HTTPS, or neither\n";
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

// ---- Start-up check of the log (--verify-on-start) -----------------------------------------
// tail: the records from the newest signed checkpoint whose hash the log still holds (that
// record's bytes, hence its prev_hash, are vouched for by the signature) to the head; when no
// checkpoint matches, the whole chain.
tl::VerifyReport verify_on_start(const tl::EventStore& store, const std::string& mode, std::uint64_t& from) {
  from = 1;
  if (mode == "tail") {
    if (auto checkpoints = tl::list_checkpoints(store)) {
      for (auto c = checkpoints->rbegin(); c != checkpoints->rend(); ++c) {
        auto raw = store.read_raw(c->seq);
        if (!raw || !*raw) continue;
        auto record = tl::decode_record(**raw);
        if (!record || record->hash != c->hash) continue;
        from = c->seq;
        return store.verify_from(c->seq, record->prev_hash);
      }
    }
  }
  return store.verify();
}

void check_log_on_start(const tl::EventStore& store, const Options& o) {
  if (o.verify_on_start == "off") return;
  const auto started = std::chrono::steady_clock::now();
  std::uint64_t from = 1;
  const tl::VerifyReport report = verify_on_start(store, o.verify_on_start, from);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  if (report.ok) {
    spdlog::info("event log verified ({}): {} records from seq {} in {} ms", o.verify_on_start, report.events, from,
                 ms.count());
    return;
  }
  const std::string what = "the event log is damaged: first bad seq " + std::to_string(report.first_bad_seq) + " (" +
                           report.problem + "). Run `tokenledger-admin verify --data " + o.data +
                           "` for a full report; start with --read-only to investigate";
  if (!o.read_only) throw std::runtime_error(what);
  spdlog::error("{}; serving read-only", what);
}
// ---------------------------------------------------------------------------------------------

int run(const Options& o) {
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
  fs::create_directories(o.data);
  fs::permissions(o.data, fs::perms::owner_all, fs::perm_options::replace);

  const auto master_key = must(tl::load_or_create_key_file(o.master_key_file), "master key");
  std::string introspection_secret;
  if (const char* env = std::getenv("TOKENLEDGER_INTROSPECTION_SECRET"); env != nullptr && *env != '\0') {
    introspection_secret = env;
  } else {
    introspection_secret = must(tl::load_or_create_secret_file(o.introspection_secret_file), "introspection secret");
  }

  auto store = must(tl::EventStore::open((fs::path(o.data) / "db").string(),
                                         {.extra_column_families = tl::ReadModel::column_families(),
                                          .read_only = o.read_only,
                                          .min_free_bytes = o.min_free_mb * 1024 * 1024}),
                    "event log");
  check_log_on_start(*store, o);
  tl::ReadModel model(*store);
  if (auto loaded = model.load(); !loaded) {
    if (!o.read_only) throw std::runtime_error("projections: " + loaded.error().message);
    spdlog::error("projections folded only to seq {}: {}", model.folded_seq(), loaded.error().message);
  }

  auto signer = must(tl::CheckpointSigner::load_or_create(o.signing_key_file), "checkpoint signing key");
  tl::TokenSecrets secrets(master_key);
  tl::UsageTracker usage(*store, model.tokens(), std::chrono::minutes(o.usage_log_minutes));
  tl::TokenService tokens(*store, model, secrets, o.max_tokens, &usage);
  tl::UserService users(*store, model);
  tl::SessionStore sessions(std::chrono::minutes(o.session_idle_minutes),
                            std::chrono::minutes(o.session_lifetime_minutes));
  tl::LoginThrottle throttle(5, std::chrono::minutes(5));

  const char* admin_env = std::getenv("TOKENLEDGER_ADMIN_PASSWORD");
  std::optional<std::string> bootstrap;
  if (!o.read_only) bootstrap = must(users.bootstrap_admin(admin_env ? admin_env : ""), "first admin account");
  if (o.read_only) spdlog::warn("read-only: every write answers 503 unavailable");

  tl::App app{*store, model, tokens, users, sessions, throttle, *signer, introspection_secret,
              {.body_limit = o.body_limit, .tls = tls != nullptr, .reveal_reauth_minutes = o.reveal_reauth_minutes},
              {}};
  std::unique_ptr<tl::WebhookClient> webhook;
  std::unique_ptr<tl::ExpiryNotifier> notifier;
  if (!o.webhook_url.empty()) {
    auto target = must(tl::parse_webhook_url(o.webhook_url), "webhook");
    webhook = std::make_unique<tl::WebhookClient>(target, must(tl::load_or_create_secret_file(o.webhook_secret_file), "webhook secret"),
                                                  o.webhook_attempts, std::chrono::milliseconds(o.webhook_backoff_ms));
    notifier = std::make_unique<tl::ExpiryNotifier>(
        *store, model, [&webhook](const std::string& body, const std::string& id) { return webhook->deliver(body, id); },
        std::chrono::seconds(o.expiry_scan_seconds));
    notifier->start();
    spdlog::info("expiry warnings go to {}", o.webhook_url);
  }
  app.notifier = notifier.get();
  tl::net::asio::io_context io(o.io_threads);
  tl::net::asio::thread_pool workers(static_cast<std::size_t>(o.workers));
  tl::Server server(app, io, workers);
  server.set_limits({.max_connections = o.max_connections});
  if (tls) server.use_tls(tls);
  const auto bound = server.listen(host, port);
  const std::string url = std::string(tls ? "https://" : "http://") +
                          (bound.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(bound.port()) + "/";
  server.start();

  // Signs the head now and then, on a worker (a synced write), so auditors can prove later
  // that history up to it was never rewritten.
  tl::net::asio::steady_timer checkpoint_timer(io);
  std::function<void()> schedule_checkpoint = [&] {
    checkpoint_timer.expires_after(std::chrono::minutes(o.checkpoint_minutes));
    checkpoint_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      tl::net::asio::post(workers, [&] {
        if (store->head().seq == 0) return;
        if (auto signed_head = signer->sign_head(*store); !signed_head) {
          spdlog::warn("checkpoint not signed: {}", signed_head.error().message);
        }
      });
      schedule_checkpoint();
    });
  };
  if (o.checkpoint_minutes > 0 && !o.read_only) schedule_checkpoint();

  tl::net::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("signal {} received: finishing in-flight requests, then stopping", signal);
    checkpoint_timer.cancel();
    server.stop();
  });

  spdlog::info("listening on {}", url.substr(0, url.size() - 1));
  if (bootstrap) {
    std::cout << "\n  First account created: user 'admin' (group admins)\n";
    if (!bootstrap->empty()) {
      std::cout << "  Its password, shown only this once: " << *bootstrap << "\n";
    } else {
      std::cout << "  Its password is the one in TOKENLEDGER_ADMIN_PASSWORD.\n";
    }
  }
  std::cout << "\n  tokenledger is serving: open " << url << " and sign in.\n\n" << std::flush;

  std::vector<std::thread> threads;
  for (int i = 1; i < o.io_threads; ++i) threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : threads) t.join();
  workers.join();
  if (notifier) notifier->stop();
  if (!o.read_only) usage.flush();
  store->stop_appender();  // every queued append is written before this returns
  if (o.read_only) {
    spdlog::info("stopped (read-only) at seq {}", store->head().seq);
    store->close();
    return 0;
  }
  if (auto saved = model.save_checkpoint(); !saved) spdlog::warn("checkpoint: {}", saved.error().message);
  if (store->head().seq > 0) {
    if (auto signed_head = signer->sign_head(*store); !signed_head) {
      spdlog::warn("checkpoint not signed: {}", signed_head.error().message);
    }
  }
  spdlog::info("stopped cleanly at seq {}", store->head().seq);
  store->close();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int exit_code = 0;
  auto options = parse_options(argc, argv, exit_code);
  if (!options) return exit_code;
  try {
    return run(*options);
  } catch (const std::exception& e) {
    std::cerr << "tokenledger: cannot start: " << e.what() << "\n";
    return 1;
  }
}
