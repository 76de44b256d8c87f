// HTTPS: the TLS detection and handshake, and the request loop over TLS (server_session.hpp),
// compiled apart from the plain one; the only server file that includes OpenSSL's Beast layer.
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/ssl.hpp>

#include "http/server_session.hpp"

namespace tl {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template awaitable<void> Server::session<TlsStream>(TlsStream&, beast::flat_buffer, const std::string&);

awaitable<void> Server::serve_tls(beast::tcp_stream stream, const std::string ip) {
  beast::flat_buffer buffer;
  // The handshake is bounded like a request head, against clients that open and wait.
  stream.expires_after(limits_.head_timeout);
  auto [detect_ec, is_tls] = co_await beast::async_detect_ssl(stream, buffer, as_tuple);
  if (detect_ec) co_return;
  if (!is_tls) {  // plain HTTP on the HTTPS port: say so in plain HTTP, then close
    spdlog::info("plain HTTP on the HTTPS port refused ip={}", ip);
    co_await refuse_request(
        stream, [](net::Response& res, const Call& call, bool keep_alive) { finish_response(res, call, keep_alive); },
        ErrorCode::invalid_field, "This port serves HTTPS only: use https://.");
    co_return;
  }
  TlsStream tls_stream(std::move(stream), *tls_);
  auto [handshake_ec, used] =
      co_await tls_stream.async_handshake(asio::ssl::stream_base::server, buffer.data(), as_tuple);
  if (handshake_ec) {
    spdlog::debug("TLS handshake failed ip={}: {}", ip, handshake_ec.message());
    co_return;
  }
  buffer.consume(used);
  co_await session(tls_stream, std::move(buffer), ip);
}

}  // namespace tl
