// What the HTTP layer serves from: the services and its own settings.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/event_log.hpp"
#include "eventstore/signed_checkpoints.hpp"
#include "http/client_address.hpp"
#include "http/host_check.hpp"
#include "http/metrics.hpp"
#include "http/stream_slots.hpp"
#include "projections/merkle_index.hpp"
#include "projections/read_model.hpp"
#include "service/access_events.hpp"
#include "service/backup_runner.hpp"
#include "service/expiry_notifier.hpp"
#include "service/integrity_guard.hpp"
#include "service/login_throttle.hpp"
#include "service/rate_limiter.hpp"
#include "service/sessions.hpp"
#include "service/token_service.hpp"
#include "service/user_service.hpp"

namespace tl {

struct HttpSettings {
  std::size_t body_limit = 64 * 1024;
  std::size_t header_limit = 16 * 1024;
  std::chrono::seconds read_timeout{30};
  bool tls = false;
  // Reveal via a session needs the password typed within this many minutes; 0: off.
  int reveal_reauth_minutes = 0;
  // --public-url: the names the server answers to besides IP literals and localhost, and the
  // origins its pages have (http/host_check.hpp).
  std::vector<PublicUrl> public_urls;
  // --trusted-proxy: peers whose Forwarded / X-Forwarded-For is believed (http/client_address.hpp).
  std::vector<Cidr> trusted_proxies;
  // Over TLS, or when a public URL is https:// (a TLS-terminating proxy): the session cookie
  // is Secure and named with the __Host- prefix (RFC 6265bis §4.1.3.2: no Domain, Path=/).
  bool secure_cookie() const {
    return tls || std::any_of(public_urls.begin(), public_urls.end(), [](const PublicUrl& u) { return u.https; });
  }
  std::string_view session_cookie_name() const { return secure_cookie() ? "__Host-tl_session" : "tl_session"; }
  // Audit streams one user may hold open at once; 0: no limit.
  std::size_t max_streams_per_user = 4;
  // /metrics on the main listener needs this as a Bearer secret; empty: refused there.
  std::string metrics_secret;
  bool metrics_listener = false;  // --metrics-listen serves /metrics on an address of its own
  // A PostgreSQL log: /readyz says "stale" once the database has been silent this long.
  std::chrono::seconds max_staleness{10};
};

struct App {
  EventLog& store;
  ReadModel& model;
  TokenService& tokens;
  UserService& users;
  SessionStore& sessions;
  LoginThrottle& throttle;
  CheckpointSigner& signer;
  IntegrityGuard& integrity;
  std::string introspection_secret;
  HttpSettings settings;
  RequestMetrics metrics;
  const ExpiryNotifier* notifier = nullptr;  // when webhooks are configured
  StreamSlots streams;                       // audit streams held, per user
  RateLimiter* reveal_limiter = nullptr;     // reveals per user (--reveal-rate); null: no limit
  BackupRunner* backups = nullptr;           // POST /api/v1/admin/backups; null or unconfigured: 503
  AccessEvents* access = nullptr;            // the trail's access events; null: none recorded
  const MerkleIndex* merkle = nullptr;       // the log's RFC 9162 tree (proofs, receipts); set by main
};

}  // namespace tl
