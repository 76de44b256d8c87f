#include "http_client.hpp"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <stdexcept>

namespace e2e {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// ---------------------------------------------------------------------------------------------
// Responses

namespace {
std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
}  // namespace

std::string Response::header(std::string_view name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string{} : it->second;
}

std::vector<std::string> Response::header_values(std::string_view name) const {
  std::vector<std::string> out;
  auto [from, to] = headers.equal_range(lower(name));
  for (auto it = from; it != to; ++it) out.push_back(it->second);
  return out;
}

std::string Response::error_code() const {
  try {
    const Json j = json();
    const Json& code = j["error"]["code"];
    return code.is_string() ? code.str() : std::string{};
  } catch (const std::exception&) {
    return {};
  }
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The client: every operation is asynchronous on a private io_context, run to completion, so
// that beast::tcp_stream's timeout bounds it. Over TLS the same operations go through an
// ssl_stream on top of that tcp_stream.

struct HttpClient::Connection {
  explicit Connection(const TlsClientOptions& options) {
    if (!options.enabled()) {
      plain.emplace(ioc);
      return;
    }
    ssl_ctx.emplace(asio::ssl::context::tls_client);
    if (options.versions == TlsClientOptions::Versions::only_tls12) {
      SSL_CTX_set_min_proto_version(ssl_ctx->native_handle(), TLS1_2_VERSION);
      SSL_CTX_set_max_proto_version(ssl_ctx->native_handle(), TLS1_2_VERSION);
    } else if (options.versions == TlsClientOptions::Versions::only_tls11) {
      SSL_CTX_set_security_level(ssl_ctx->native_handle(), 0);
      SSL_CTX_set_min_proto_version(ssl_ctx->native_handle(), TLS1_1_VERSION);
      SSL_CTX_set_max_proto_version(ssl_ctx->native_handle(), TLS1_1_VERSION);
    }
    ssl_ctx->load_verify_file(options.ca_file);  // the test's self-signed certificate is the only anchor
    ssl_ctx->set_verify_mode(asio::ssl::verify_peer);
    tls.emplace(ioc, *ssl_ctx);
    tls->set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
  }

  asio::io_context ioc;
  std::optional<asio::ssl::context> ssl_ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;

  beast::tcp_stream& tcp() { return tls ? tls->next_layer() : *plain; }
  // Calls f with the stream requests travel on.
  template <class F>
  void with_stream(F&& f) {
    if (tls) {
      f(*tls);
    } else {
      f(*plain);
    }
  }

  template <class Start>
  beast::error_code run(std::chrono::seconds timeout, Start start) {
    beast::error_code result = asio::error::would_block;
    tcp().expires_after(timeout);
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  void connect(unsigned short port, std::chrono::seconds timeout) {
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    auto ec = run(timeout, [&](auto handler) { tcp().async_connect(endpoint, handler); });
    if (ec) throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " + ec.message());
    tcp().socket().set_option(tcp::no_delay(true));
    if (tls) {
      ec = run(timeout, [&](auto handler) { tls->async_handshake(asio::ssl::stream_base::client, handler); });
      if (ec) throw std::runtime_error("TLS handshake with 127.0.0.1:" + std::to_string(port) + ": " + ec.message());
    }
  }

  beast::error_code read(Response& out, std::chrono::seconds timeout) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    auto ec = run(timeout, [&](auto handler) {
      with_stream([&](auto& stream) { http::async_read(stream, buffer, parser, handler); });
    });
    if (ec) return ec;
    const auto& res = parser.get();
    out.status = static_cast<int>(res.result_int());
    out.headers.clear();
    for (const auto& field : res) out.headers.emplace(lower(field.name_string()), std::string(field.value()));
    out.body = res.body();
    if (!res.keep_alive()) out.headers.emplace("x-e2e-closed", "1");
    return {};
  }
};

HttpClient::HttpClient(unsigned short port, std::chrono::seconds timeout, TlsClientOptions tls)
    : port_(port), timeout_(timeout), tls_(std::move(tls)) {}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

void HttpClient::close() { conn_.reset(); }

std::string HttpClient::cookie(const std::string& name) const {
  auto it = cookies_.find(name);
  return it == cookies_.end() ? std::string{} : it->second;
}

Response HttpClient::request(std::string_view method, std::string_view target, std::string_view body,
                             const Headers& headers) {
  http::request<http::string_body> req;
  req.version(11);
  if (auto verb = http::string_to_verb(method); verb != http::verb::unknown) {
    req.method(verb);
  } else {
    req.method_string(method);
  }
  req.target(target);
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
  if (!user_agent_.empty()) req.set(http::field::user_agent, user_agent_);
  if (!cookies_.empty()) {
    std::string jar;
    for (const auto& [name, value] : cookies_) jar += (jar.empty() ? "" : "; ") + name + "=" + value;
    req.set(http::field::cookie, jar);
  }
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : headers) {
    req.erase(name);
    if (!value.empty()) req.insert(name, value);
  }
  req.body() = std::string(body);
  req.prepare_payload();

  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool fresh = !conn_;
    if (fresh) {
      conn_ = std::make_unique<Connection>(tls_);
      conn_->connect(port_, timeout_);
    }
    auto write_ec = conn_->run(timeout_, [&](auto handler) {
      conn_->with_stream([&](auto& stream) { http::async_write(stream, req, handler); });
    });
    if (write_ec && !fresh) {  // the kept-alive connection was closed by the server: try a new one
      conn_.reset();
      continue;
    }
    // Even when writing failed part-way (e.g. the server refused a too-large body), the
    // server may have answered: read it.
    Response res;
    auto read_ec = conn_->read(res, timeout_);
    if (!read_ec) {
      if (res.headers.count("x-e2e-closed") != 0) conn_.reset();
      for (const auto& set : res.header_values("set-cookie")) {
        const auto pair = set.substr(0, set.find(';'));
        const auto eq = pair.find('=');
        if (eq == std::string::npos) continue;
        const std::string name = pair.substr(0, eq), value = pair.substr(eq + 1);
        if (value.empty() || lower(set).find("max-age=0") != std::string::npos) {
          cookies_.erase(name);
        } else {
          cookies_[name] = value;
        }
      }
      return res;
    }
    conn_.reset();
    const bool stale = read_ec == http::error::end_of_stream || read_ec == asio::error::connection_reset ||
                       read_ec == asio::error::eof;
    if (!fresh && stale && !write_ec) continue;
    throw std::runtime_error(std::string(method) + " " + std::string(target) + ": " +
                             (write_ec ? "write: " + write_ec.message() + "; " : std::string{}) +
                             "read: " + read_ec.message());
  }
  throw std::runtime_error(std::string(method) + " " + std::string(target) + ": the connection kept closing");
}

std::vector<Response> HttpClient::raw_exchange(std::string_view raw, std::size_t count) {
  Connection conn(tls_);
  conn.connect(port_, timeout_);
  auto ec = conn.run(timeout_, [&](auto handler) {
    conn.with_stream([&](auto& stream) { asio::async_write(stream, asio::buffer(raw), handler); });
  });
  if (ec) throw std::runtime_error("raw write: " + ec.message());
  std::vector<Response> out;
  for (std::size_t k = 0; k < count; ++k) {
    Response res;
    if (auto read_ec = conn.read(res, timeout_)) {
      throw std::runtime_error("raw read of response " + std::to_string(k + 1) + ": " + read_ec.message());
    }
    out.push_back(std::move(res));
  }
  return out;
}

}  // namespace e2e
