// Operations (health, readiness) and the embedded web UI.
#include "eventstore/json_writer.hpp"
#include "http/call.hpp"
#include "http/responses.hpp"
#include "http/web_assets.hpp"

namespace tl {

using net::http::status;

net::Response handle_healthz(App&, Call&) { return json_response(status::ok, R"({"status":"ok"})"); }

net::Response handle_readyz(App& app, Call&) {
  const std::uint64_t folded = app.model.folded_seq();
  const std::uint64_t head = app.store.head().seq;
  JsonWriter w;
  w.begin_object().key("ready").value(folded == head).key("head_seq").value(head).key("folded_seq").value(folded);
  w.end_object();
  return json_response(folded == head ? status::ok : status::service_unavailable, std::move(w).str());
}

net::Response handle_metrics(App& app, Call&) {
  net::Response res{status::ok, 11};
  res.set(net::http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.body() = app.metrics.render(app.store, app.model);
  if (app.notifier != nullptr) {
    res.body() += "# HELP tokenledger_webhook_deliveries_total Expiry notices by outcome (after retries).\n";
    res.body() += "# TYPE tokenledger_webhook_deliveries_total counter\n";
    res.body() += "tokenledger_webhook_deliveries_total{outcome=\"delivered\"} " + std::to_string(app.notifier->delivered()) + "\n";
    res.body() += "tokenledger_webhook_deliveries_total{outcome=\"failed\"} " + std::to_string(app.notifier->failed()) + "\n";
  }
  return res;
}

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

net::Response handle_web_asset(App&, Call& call) {
  std::string_view path = call.req.target();
  path = path.substr(0, path.find('?'));
  return serve_asset(path == "/" ? "/index.html" : path);
}

net::Response handle_openapi(App&, Call&) { return serve_asset("/openapi.json"); }

}  // namespace tl
