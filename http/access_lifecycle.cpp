#include "http/access_lifecycle.hpp"

#include "common/build_info.hpp"
#include "common/time_format.hpp"
#include "eventstore/rocksdb_version.hpp"
#include "http/access_notes.hpp"

namespace tl {

ServerStarted server_started_event(const ServerOptions& o, const IntegrityGuard& guard) {
  const BuildInfo b = build_info(rocksdb_version());
  auto set = [](const auto& v) { return v.empty() ? "off" : "on"; };
  std::string options = "verify_on_start=" + o.verify_on_start;
  options += " tls=" + std::string(set(o.tls_cert));
  options += " public_urls=" + std::to_string(o.public_urls.size());
  options += " trusted_proxies=" + std::to_string(o.trusted_proxies.size());
  options += " reveal_rate=" + std::to_string(o.reveal_rate);
  options += " reveal_reauth_minutes=" + std::to_string(o.reveal_reauth_minutes);
  options += " session_idle_minutes=" + std::to_string(o.session_idle_minutes);
  options += " session_lifetime_minutes=" + std::to_string(o.session_lifetime_minutes);
  options += " checkpoint_seconds=" + std::to_string(o.checkpoint_seconds);
  options += " scrub_hours=" + std::to_string(o.scrub_hours);
  options += " witness_file=" + std::string(set(o.witness_file));
  options += " witness_url=" + std::string(set(o.witness_url));
  options += " webhook=" + std::string(set(o.webhook_url));
  options += " backup_dir=" + std::string(set(o.backup_dir));
  options += " metrics_listen=" + std::string(set(o.metrics_listen));
  std::string verification;
  if (auto damage = guard.damage()) {
    verification = "damage at seq " + std::to_string(damage->seq) + " (" + damage->kind + "): " + damage->problem;
  } else if (guard.vouched()) {
    verification = "ok: the whole log checked";
  } else if (o.verify_on_start == "off") {
    verification = "not_run";
  } else {
    verification = "ok: " + o.verify_on_start + " checked";
  }
  return {b.version, b.commit, std::move(options), std::move(verification)};
}

void AccessSweep::sweep_now() {
  if (app_.access == nullptr) return;
  const Timestamp now = now_ms();
  app_.access->flush(now);
  for (const auto& ended : app_.sessions.sweep(now)) {
    note_sessions_ended(app_, server_actor(), {}, ended.username, 1, ended.reason, now);
  }
}

void record_stop(AccessEvents& access, SessionStore& sessions) {
  const Timestamp now = now_ms();
  for (const auto& ended : sessions.remove_all()) {
    access.session_ended({ended.username, std::string(ended.reason)}, server_actor(), {}, now);
  }
  access.flush(now, /*all=*/true);
  access.record(ServerStopped{"signal"}, server_actor(), {});
}

void AccessSweep::arm() {
  timer_.expires_after(every_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    net::asio::post(workers_, [this] { sweep_now(); });
    arm();
  });
}

}  // namespace tl
