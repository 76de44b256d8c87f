#include "http/webhook_client.hpp"

#include <spdlog/spdlog.h>

#include <boost/url/parse.hpp>
#include <thread>

#include "eventstore/codec.hpp"
#include "http/net.hpp"

namespace tl {

Result<WebhookTarget> parse_webhook_url(const std::string& url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || parsed->scheme() != "http" || parsed->host().empty()) {
    return Error::invalid_field("--webhook-url must be an http:// URL, e.g. http://127.0.0.1:9000/hooks");
  }
  WebhookTarget t;
  t.host = std::string(parsed->host());
  t.port = parsed->has_port() ? std::string(parsed->port()) : "80";
  t.target = parsed->encoded_target().empty() ? "/" : std::string(parsed->encoded_target());
  t.host_header = std::string(parsed->encoded_host_and_port());
  return t;
}

bool WebhookClient::post_once(const std::string& body, const std::string& delivery_id, const std::string& signature) {
  namespace http = net::http;
  ++attempts_made_;
  try {
    net::asio::io_context io;
    net::tcp::resolver resolver(io);
    net::beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(resolver.resolve(target_.host, target_.port));
    net::Request req{http::verb::post, target_.target, 11};
    req.set(http::field::host, target_.host_header);
    req.set(http::field::content_type, "application/json; charset=utf-8");
    req.set(http::field::user_agent, "tokenledger-webhook");
    req.set("X-Tokenledger-Delivery", delivery_id);
    req.set("X-Tokenledger-Signature", "sha256=" + signature);
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    net::beast::flat_buffer buffer;
    net::Response res;
    http::read(stream, buffer, res);
    net::beast::error_code ec;
    stream.socket().shutdown(net::tcp::socket::shutdown_both, ec);
    if (res.result_int() / 100 == 2) return true;
    spdlog::warn("webhook delivery {} answered {}", delivery_id, res.result_int());
  } catch (const std::exception& e) {
    spdlog::warn("webhook delivery {} failed: {}", delivery_id, e.what());
  }
  return false;
}

bool WebhookClient::deliver(const std::string& body, const std::string& delivery_id) {
  const std::string signature = hmac_sha256_hex(secret_, body);
  auto backoff = first_backoff_;
  for (int attempt = 1; attempt <= attempts_; ++attempt) {
    if (post_once(body, delivery_id, signature)) return true;
    if (attempt < attempts_) {
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
    }
  }
  return false;
}

}  // namespace tl
