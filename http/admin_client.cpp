#include "http/admin_client.hpp"

#include <openssl/ssl.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <optional>

#include "http/net.hpp"

namespace tl {
namespace {

namespace asio = net::asio;
namespace beast = net::beast;
namespace http = net::http;
namespace ssl = boost::asio::ssl;
using asio::awaitable;
using asio::use_awaitable;

Error bad_url(std::string_view why) {
  return Error::invalid_field("--server: " + std::string(why) +
                              " (e.g. https://tokens.example.com or http://127.0.0.1:8080)");
}

template <class Stream>
awaitable<ClientResponse> exchange(Stream& stream, http::request<http::string_body> req) {
  co_await http::async_write(stream, req, use_awaitable);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  co_await http::async_read(stream, buffer, parser, use_awaitable);
  auto& res = parser.get();
  ClientResponse out;
  out.status = static_cast<int>(res.result_int());
  out.body = std::move(res.body());
  for (const auto& field : res) {
    if (field.name() == http::field::set_cookie) out.set_cookies.emplace_back(field.value());
    if (field.name() == http::field::location) out.location = std::string(field.value());
  }
  co_return out;
}

}  // namespace

Result<ServerUrl> parse_server_url(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return bad_url("not an absolute URL");
  ServerUrl out;
  if (parsed->scheme() == "https") {
    out.https = true;
  } else if (parsed->scheme() != "http") {
    return bad_url("the scheme must be http or https, not '" + std::string(parsed->scheme()) + "'");
  }
  if (parsed->encoded_host().empty()) return bad_url("no host");
  if (parsed->has_query() || parsed->has_fragment()) return bad_url("no query or fragment");
  if (parsed->has_userinfo())
    return bad_url("no user or password in the URL (use --user; the password is read from standard input)");
  out.host = std::string(parsed->host_address());
  out.port = parsed->has_port() ? std::string(parsed->port()) : (out.https ? "443" : "80");
  out.host_header = std::string(parsed->encoded_host_and_port());
  out.base_path = std::string(parsed->encoded_path());
  while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  return out;
}

Result<ClientResponse> send_request(const ServerUrl& server, std::string_view method, std::string_view path,
                                    std::string body, const ClientHeaders& headers, const std::string& ca_file,
                                    std::chrono::seconds timeout) {
  http::request<http::string_body> req{http::string_to_verb(method), server.base_path + std::string(path), 11};
  req.set(http::field::host, server.host_header);
  req.set(http::field::user_agent, "tokenledger-admin");
  req.set(http::field::connection, "close");
  for (const auto& [name, value] : headers) req.set(name, value);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();

  const std::string where = (server.https ? "https://" : "http://") + server.host_header;
  asio::io_context io;
  std::optional<ssl::context> tls;
  try {
    if (server.https) {
      tls.emplace(ssl::context::tls_client);
      SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
      if (ca_file.empty()) {
        tls->set_default_verify_paths();
      } else {
        tls->load_verify_file(ca_file);
      }
      tls->set_verify_mode(ssl::verify_peer);
    }
  } catch (const std::exception& e) {
    return Error::unavailable("cannot set up TLS" + (ca_file.empty() ? "" : " with --cacert " + ca_file) + ": " +
                              e.what());
  }
  std::optional<Result<ClientResponse>> outcome;
  auto run = [&]() -> awaitable<void> {
    net::tcp::resolver resolver(io);
    beast::tcp_stream tcp(io);
    tcp.expires_after(timeout);
    const auto endpoints = co_await resolver.async_resolve(server.host, server.port, use_awaitable);
    co_await tcp.async_connect(endpoints, use_awaitable);
    if (!tls) {
      outcome = co_await exchange(tcp, std::move(req));
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), *tls);
    // SNI for names only (RFC 6066 §3: not for IP literals); the certificate must name the host.
    boost::system::error_code not_ip;
    asio::ip::make_address(server.host, not_ip);
    if (not_ip) SSL_set_tlsext_host_name(stream.native_handle(), server.host.c_str());
    stream.set_verify_callback(ssl::host_name_verification(server.host));
    co_await stream.async_handshake(ssl::stream_base::client, use_awaitable);
    outcome = co_await exchange(stream, std::move(req));
  };
  std::string failure;
  asio::co_spawn(io, run(), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const boost::system::system_error& ex) {
      failure = ex.code().message();  // what() adds the source location of the Asio header
    } catch (const std::exception& ex) {
      failure = ex.what();
    }
  });
  io.run();
  if (outcome) return std::move(*outcome);
  return Error::unavailable("cannot reach " + where + ": " + (failure.empty() ? "no answer" : failure));
}

}  // namespace tl
