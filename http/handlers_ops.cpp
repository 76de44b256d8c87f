// Operations (health, readiness, metrics) and the embedded web UI.
#include <sodium.h>

#include "common/json_writer.hpp"
#include "http/call.hpp"
#include "http/responses.hpp"
#include "http/router.hpp"
#include "http/web_assets.hpp"

namespace tl {

using net::http::status;

Reply handle_healthz(App&, Call&) { return json_response(status::ok, R"({"status":"ok"})"); }

Reply handle_readyz(App& app, Call&) {
  const std::uint64_t folded = app.model.folded_seq();
  const std::uint64_t head = app.store.head().seq;
  const auto damage = app.integrity.damage();
  const bool ready = folded == head && !damage;
  JsonWriter w;
  w.begin_object().key("ready").value(ready).key("head_seq").value(head).key("folded_seq").value(folded);
  if (damage) {
    // Why writes are refused: the first damage the start-up check or the scrub found.
    w.key("damage").begin_object().key("seq").value(damage->seq).key("kind").value(damage->kind);
    w.key("problem").value(damage->problem).end_object();
  }
  // A PostgreSQL log out of reach: serving goes on from memory (writes answer 503), and the
  // answers may be this old.
  if (const auto lag = app.store.follow_lag();
      lag && lag->since_contact_seconds > static_cast<double>(app.settings.max_staleness.count())) {
    w.key("stale")
        .begin_object()
        .key("seconds_since_database")
        .value(static_cast<std::uint64_t>(lag->since_contact_seconds));
    w.key("behind_events").value(lag->events).end_object();
  }
  const WitnessStatus witness = app.integrity.witnesses().status();
  if (witness.pending > 0) {  // serving goes on; the operator is told here and in /metrics
    w.key("witness").begin_object().key("pending").value(static_cast<std::uint64_t>(witness.pending));
    w.key("last_error").value(witness.last_error).end_object();
  }
  w.end_object();
  return json_response(ready ? status::ok : status::service_unavailable, std::move(w).str());
}

namespace {

void integrity_metrics(const IntegrityGuard& integrity, std::string& out) {
  auto metric = [&](std::string_view name, std::string_view type, std::string_view help, const std::string& value) {
    out += "# HELP " + std::string(name) + " " + std::string(help) + "\n# TYPE " + std::string(name) + " " +
           std::string(type) + "\n" + std::string(name) + " " + value + "\n";
  };
  const ScrubStatus scrub = integrity.scrub_status();
  const WitnessStatus witness = integrity.witnesses().status();
  metric("tokenledger_integrity_damaged", "gauge", "1 once a check found damage (writes are refused), else 0.",
         integrity.damage() ? "1" : "0");
  if (auto damage = integrity.damage()) {
    metric("tokenledger_integrity_damaged_seq", "gauge", "The first damaged seq found.", std::to_string(damage->seq));
  }
  metric("tokenledger_scrub_runs_total", "counter", "Completed background scrubs.", std::to_string(scrub.runs));
  metric("tokenledger_scrub_last_ok", "gauge", "1 when the last completed scrub passed (1 before the first).",
         scrub.last_ok ? "1" : "0");
  metric("tokenledger_scrub_last_events", "gauge", "Records the last completed scrub checked.",
         std::to_string(scrub.last_events));
  metric("tokenledger_scrub_last_seconds", "gauge", "How long the last completed scrub took (throttled).",
         std::to_string(scrub.last_seconds));
  metric("tokenledger_scrub_last_finished_timestamp_seconds", "gauge", "When the last scrub finished (0: none yet).",
         std::to_string(scrub.last_finished_unix));
  if (auto age = integrity.checkpoint_age_seconds()) {
    metric("tokenledger_checkpoint_age_seconds", "gauge", "Age of the newest signed checkpoint.", std::to_string(*age));
  }
  metric("tokenledger_witness_deliveries_total", "counter", "Checkpoints handed to a witness (file or URL).",
         std::to_string(witness.delivered));
  metric("tokenledger_witness_failures_total", "counter", "Witness deliveries that failed (each is retried).",
         std::to_string(witness.failures));
  metric("tokenledger_witness_pending", "gauge", "Checkpoints waiting for a witness retry.",
         std::to_string(witness.pending));
}

// The access events (service/access_events.hpp): dropped ones are evidence that never reached the trail.
void access_metrics(const AccessEvents::Counts& counts, std::string& out) {
  out +=
      "# HELP tokenledger_access_events_total Access events (sign-ins, refusals, reads of the trail) by outcome: "
      "recorded, dropped (the log refused writes), coalesced (counted into a later record past the minute's budget).\n"
      "# TYPE tokenledger_access_events_total counter\n";
  out += "tokenledger_access_events_total{outcome=\"recorded\"} " + std::to_string(counts.recorded) + "\n";
  out += "tokenledger_access_events_total{outcome=\"dropped\"} " + std::to_string(counts.dropped) + "\n";
  out += "tokenledger_access_events_total{outcome=\"coalesced\"} " + std::to_string(counts.coalesced) + "\n";
  out +=
      "# HELP tokenledger_access_events_dropped_total Access events the log refused or could not take.\n"
      "# TYPE tokenledger_access_events_dropped_total counter\n";
  out += "tokenledger_access_events_dropped_total " + std::to_string(counts.dropped) + "\n";
}

}  // namespace

namespace {

net::Response metrics_body(App& app) {
  net::Response res{status::ok, 11};
  res.set(net::http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.body() = app.metrics.render(app.store, app.model);
  integrity_metrics(app.integrity, res.body());
  if (app.access != nullptr) access_metrics(app.access->counts(), res.body());
  if (app.notifier != nullptr) {
    res.body() += "# HELP tokenledger_webhook_deliveries_total Expiry notices by outcome (after retries).\n";
    res.body() += "# TYPE tokenledger_webhook_deliveries_total counter\n";
    res.body() += "tokenledger_webhook_deliveries_total{outcome=\"delivered\"} " +
                  std::to_string(app.notifier->delivered()) + "\n";
    res.body() +=
        "tokenledger_webhook_deliveries_total{outcome=\"failed\"} " + std::to_string(app.notifier->failed()) + "\n";
  }
  return res;
}

// Compares SHA-256 digests in constant time, so neither the secret's bytes nor its length
// show in the timing.
bool same_secret(std::string_view given, std::string_view secret) {
  unsigned char a[crypto_hash_sha256_BYTES], b[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(a, reinterpret_cast<const unsigned char*>(given.data()), given.size());
  crypto_hash_sha256(b, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  return crypto_verify_32(a, b) == 0;
}

}  // namespace

// GET /metrics on the main listener: only for the bearer of the metrics secret
// (--metrics-secret-file); 401 `unauthenticated` otherwise, naming how to get access.
Reply handle_metrics(App& app, Call& call) {
  const std::string& secret = app.settings.metrics_secret;
  if (!secret.empty()) {
    const std::string_view given = bearer_credentials(call.req[net::http::field::authorization]).value_or("");
    if (!given.empty() && same_secret(given, secret)) return metrics_body(app);
  }
  std::string message =
      !secret.empty() ? "Send the metrics secret (--metrics-secret-file) as Authorization: Bearer <secret>."
      : app.settings.metrics_listener
          ? "/metrics is served on the metrics address (--metrics-listen), not here."
          : "/metrics needs a credential: start the server with --metrics-secret-file F and send "
            "Authorization: Bearer <secret>, or serve it on a separate address with --metrics-listen ADDR:PORT.";
  auto res = error_response(Error::unauthenticated(std::move(message)));
  res.set(net::http::field::www_authenticate, R"(Bearer realm="tokenledger-metrics")");
  return res;
}

// GET /metrics on the --metrics-listen address: the address is the protection.
Reply handle_metrics_listener(App& app, Call&) { return metrics_body(app); }

namespace {

net::Response serve_asset(std::string_view path) {
  for (const WebAsset& asset : web_assets()) {
    if (asset.path == path) {
      net::Response res{status::ok, 11};
      res.set(net::http::field::content_type, asset.content_type);
      res.set(net::http::field::cache_control, "no-cache");
      res.body() = std::string(asset.body);
      return res;
    }
  }
  return error_response(Error::not_found("No such page."));
}

}  // namespace

Reply handle_web_asset(App&, Call& call) {
  std::string_view path = call.req.target();
  path = path.substr(0, path.find('?'));
  return serve_asset(path == "/" ? "/index.html" : path);
}

Reply handle_openapi(App&, Call&) { return serve_asset("/openapi.json"); }

}  // namespace tl
