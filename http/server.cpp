#include "http/server.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/ssl.hpp>

#include "eventstore/time_format.hpp"
#include "http/request_framing.hpp"
#include "http/responses.hpp"
#include "http/router.hpp"

namespace tl {
namespace {

namespace asio = net::asio;
namespace beast = net::beast;
namespace http = net::http;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::use_awaitable;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
constexpr auto as_tuple = asio::as_tuple(use_awaitable);

// Timeouts and the socket live in the TCP layer under either stream.
beast::tcp_stream& tcp_of(beast::tcp_stream& stream) { return stream; }
beast::tcp_stream& tcp_of(TlsStream& stream) { return stream.next_layer(); }

// Stops sending, so a client reading until EOF sees the answer is complete. Over TLS the
// close_notify at the end of the session says that instead (a bare FIN would cut TLS short).
void stop_sending(beast::tcp_stream& stream) {
  beast::error_code ignored;
  stream.socket().shutdown(net::tcp::socket::shutdown_send, ignored);
}
void stop_sending(TlsStream&) {}

// Ends a connection. TLS sends close_notify and waits briefly for the client's: bounded,
// since a client may just close the socket instead.
awaitable<void> end_connection(beast::tcp_stream& stream) {
  stop_sending(stream);
  co_return;
}
awaitable<void> end_connection(TlsStream& stream) {
  tcp_of(stream).expires_after(std::chrono::seconds(2));
  co_await stream.async_shutdown(as_tuple);
}

// A handler's reply, and when it is a command, the command's first append: decided where the
// handler ran (the worker pool for a blocking route), since deciding reads state.
struct Handled {
  Reply reply;
  std::optional<AppendRequest> first;
};

Handled handle(App& app, Routed& routed) {
  Handled handled{routed.handler(app, routed.call), std::nullopt};
  if (auto* pending = std::get_if<Pending>(&handled.reply)) handled.first = pending->next();
  return handled;
}

awaitable<Handled> run_on_worker(App& app, Routed& routed) { co_return handle(app, routed); }

// Runs a command from its first append on: each append awaited (no thread waits on the fsync),
// later decisions on this (I/O) thread; then its answer.
awaitable<net::Response> await_command(App& app, Pending& pending, std::optional<AppendRequest> request) {
  for (; request; request = pending.next()) {
    pending.appended(co_await async_append(app.store, std::move(*request), use_awaitable));
  }
  co_return pending.answer();
}

bool quiet_close(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
         ec == asio::error::connection_reset || ec == asio::error::eof;
}

void log_request(App& app, const net::Request& req, const Routed& routed, unsigned status,
                 std::chrono::steady_clock::time_point started) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
  // Counted, and the access-log line written in batches (http/metrics.hpp): no write(2) here.
  app.metrics.record_request(req.method_string(), routed.route_name, status, micros, routed.call.ctx.source.ip,
                             routed.call.ctx.source.request_id);
}

// Whether the client has closed its side (an orderly FIN, read without taking a byte): an idle
// live stream learns it without writing, so its per-user slot (StreamSlots) is given back at
// once rather than at the next keep-alive write.
bool peer_closed(net::tcp::socket& socket) {
  char byte = 0;
  return ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

// nullopt when the caller lost access (StreamBody::allowed): the body ends there.
awaitable<std::optional<bool>> next_piece(StreamBody& body, std::string& out) {
  if (body.allowed && !body.allowed()) co_return std::nullopt;
  co_return body.next(out);
}

// Over a connection limit: a short 503, written without waiting (it fits the fresh socket's
// send buffer), then the connection is closed. Over TLS a plain-text 503 would be noise to the
// client: closing says as much.
void refuse_connection(net::tcp::socket& socket, std::string_view why, bool tls) {
  beast::error_code ec;
  if (!tls) {
    const std::string body = R"({"error":{"code":"unavailable","message":")" + std::string(why) + R"("}})";
    const std::string response =
        "HTTP/1.1 503 Service Unavailable\r\nServer: tokenledger\r\nContent-Type: application/json\r\n"
        "Retry-After: 1\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    socket.non_blocking(true, ec);
    socket.write_some(asio::buffer(response), ec);
    socket.shutdown(net::tcp::socket::shutdown_both, ec);
  }
  socket.close(ec);
}

// The metrics listener (--metrics-listen) routes only /metrics (its own handler: no secret,
// the address is the protection) and /healthz; nothing else is routed there, so no credential
// is ever looked at on it.
Routed route_metrics_listener(App& app, const net::Request& req, const std::string& ip) {
  std::string_view path = req.target();
  path = path.substr(0, path.find('?'));
  if (path == "/metrics" || path == "/healthz") {
    Routed routed = route_request(app, req, ip, now_ms());
    if (has(routed.flags, RouteFlag::metrics)) routed.handler = handle_metrics_listener;
    return routed;
  }
  Routed routed(req);
  routed.call.ctx.source.request_id = "-";
  routed.answer = error_response(Error::not_found("This address serves only /metrics and /healthz."));
  return routed;
}

// Waits for the first byte of the next request on a kept-alive connection for at most `idle`,
// before the head's deadline starts.
template <class Stream>
awaitable<beast::error_code> wait_for_request(Stream& stream, beast::flat_buffer& buffer, std::chrono::seconds idle) {
  if (buffer.size() > 0) co_return beast::error_code{};
  tcp_of(stream).expires_after(idle);
  auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), as_tuple);
  buffer.commit(n);
  co_return ec;
}

// Answers a request refused before it was read whole, then closes gently: stops sending and
// discards (briefly, boundedly) what the client still sends, so that it reads the answer
// instead of a reset. `finish` adds the common headers.
template <class Stream, class Finish>
awaitable<void> refuse_request(Stream& stream, Finish finish, ErrorCode code, std::string message,
                               unsigned status = 0) {
  net::Request none;
  Call call(none);
  call.ctx.source.request_id = "-";
  auto res = error_response({code, std::move(message)});
  if (status != 0) res.result(status);
  finish(res, call, false);
  tcp_of(stream).expires_after(std::chrono::seconds(5));
  if (auto [write_ec, n] = co_await http::async_write(stream, res, as_tuple); write_ec) co_return;
  stop_sending(stream);
  tcp_of(stream).expires_after(std::chrono::seconds(2));
  std::size_t drained = 0;
  char sink[16384];
  while (drained < 1024 * 1024) {
    auto [read_ec, got] = co_await stream.async_read_some(asio::buffer(sink), as_tuple);
    if (read_ec) break;
    drained += got;
  }
}

}  // namespace

// Every response's common headers; over TLS also HSTS, so browsers keep to https:// for a year.
void Server::finish(net::Response& res, const Call& call, bool keep_alive) const {
  finish_response(res, call, keep_alive);
  if (tls_) res.set(http::field::strict_transport_security, "max-age=31536000");
}

// Writes the head, then the body in chunks as `next` produces them. A live stream waits and
// asks again until the client leaves or the server stops, with a comment line now and then so
// that proxies keep the connection open.
template <class Stream>
awaitable<bool> Server::write_stream(Stream& stream, Streamed& streamed, const Call& call) {
  const net::Response& head = streamed.head;
  StreamBody& body = streamed.body;
  http::response<http::empty_body> header{head.result(), 11};
  for (const auto& field : head) header.set(field.name_string(), field.value());
  header.set(http::field::content_type, body.content_type);
  header.chunked(true);
  net::Response for_headers{head.result(), 11};
  finish(for_headers, call, true);
  for (const auto& field : for_headers) {
    if (field.name() != http::field::content_length) header.set(field.name_string(), field.value());
  }
  header.chunked(true);
  http::response_serializer<http::empty_body> serializer{header};
  tcp_of(stream).expires_after(app_.settings.read_timeout);
  if (auto [ec, n] = co_await http::async_write_header(stream, serializer, as_tuple); ec) co_return false;

  asio::steady_timer timer(io_);
  int idle_polls = 0;
  for (;;) {
    std::string piece;
    const std::optional<bool> next = co_await asio::co_spawn(workers_, next_piece(body, piece), use_awaitable);
    if (!next) co_return false;
    const bool more = *next;
    if (!piece.empty()) {
      idle_polls = 0;
      tcp_of(stream).expires_after(app_.settings.read_timeout);
      auto [ec, n] = co_await asio::async_write(stream, http::make_chunk(asio::buffer(piece)), as_tuple);
      if (ec) co_return false;
    }
    if (more) continue;
    if (!body.live || stopping_) break;
    if (peer_closed(tcp_of(stream).socket())) co_return false;
    if (++idle_polls % 60 == 0) {  // about every 15 s
      tcp_of(stream).expires_after(app_.settings.read_timeout);
      auto [ec, n] = co_await asio::async_write(stream, http::make_chunk(asio::buffer(": keep-alive\n\n", 14)), as_tuple);
      if (ec) co_return false;
    }
    timer.expires_after(std::chrono::milliseconds(250));
    co_await timer.async_wait(as_tuple);
  }
  tcp_of(stream).expires_after(app_.settings.read_timeout);
  auto [ec, n] = co_await asio::async_write(stream, http::make_chunk_last(), as_tuple);
  co_return !ec && !body.live;
}

Server::Server(App& app, asio::io_context& io, asio::thread_pool& workers)
    : app_(app), io_(io), workers_(workers), acceptor_(io) {}

net::tcp::endpoint Server::listen(const std::string& address, unsigned short port) {
  const net::tcp::endpoint endpoint{asio::ip::make_address(address), port};
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  return acceptor_.local_endpoint();
}

void Server::start() { asio::co_spawn(io_, accept_loop(), asio::detached); }

void Server::stop(std::chrono::seconds grace) {
  if (stopping_.exchange(true)) return;
  asio::post(io_, [this, grace] {
    beast::error_code ec;
    acceptor_.close(ec);
    // The metrics listener shares the I/O loop: the main server's drain stops it.
    if (!metrics_only_) asio::co_spawn(io_, drain_then_stop(grace), asio::detached);
  });
}

awaitable<void> Server::drain_then_stop(std::chrono::seconds grace) {
  asio::steady_timer timer(io_);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(as_tuple);
  }
  if (in_flight_.load() > 0) spdlog::warn("stopping with {} requests still running", in_flight_.load());
  io_.stop();
}

awaitable<void> Server::accept_loop() {
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor_.async_accept(as_tuple);
    if (ec) {
      if (stopping_ || ec == asio::error::operation_aborted) break;
      spdlog::warn("accept failed: {}", ec.message());
      continue;
    }
    beast::error_code endpoint_ec;
    const auto address = socket.remote_endpoint(endpoint_ec).address();
    if (endpoint_ec) {  // the client has already gone
      socket.close(endpoint_ec);
      continue;
    }
    if (const char* why = admit(address)) {
      refuse_connection(socket, why, tls_ != nullptr);
      spdlog::warn("connection refused ip={}: {}", address.to_string(), why);
      continue;
    }
    asio::co_spawn(io_, serve(std::move(socket)), [this, address](const std::exception_ptr&) { release(address); });
  }
}

// The global cap, and past half of it a share per client address, so that one address (idle
// sockets, audit streams) cannot take every connection and lock everyone else out.
const char* Server::admit(const asio::ip::address& address) {
  const std::size_t max = limits_.max_connections;
  const std::size_t share = limits_.max_per_address != 0 ? limits_.max_per_address : std::max<std::size_t>(1, max / 4);
  std::lock_guard lock(per_address_mutex_);
  const std::size_t open = connections_.load();
  if (open >= max) return "Too many connections; try again shortly.";
  std::size_t& mine = per_address_[address];
  if (open > max / 2 && mine >= share) {
    return "Too many connections from your address; try again shortly.";
  }
  ++mine;
  ++connections_;
  return nullptr;
}

void Server::release(const asio::ip::address& address) {
  std::lock_guard lock(per_address_mutex_);
  --connections_;
  if (auto it = per_address_.find(address); it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

awaitable<void> Server::serve(net::tcp::socket socket) {
  beast::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  const std::string ip = ec ? std::string{} : remote.address().to_string();
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  if (!tls_) {
    co_await session(stream, std::move(buffer), ip);
    co_return;
  }
  // The handshake is bounded like a request head, against clients that open and wait.
  stream.expires_after(limits_.head_timeout);
  auto [detect_ec, is_tls] = co_await beast::async_detect_ssl(stream, buffer, as_tuple);
  if (detect_ec) co_return;
  if (!is_tls) {  // plain HTTP on the HTTPS port: say so in plain HTTP, then close
    spdlog::info("plain HTTP on the HTTPS port refused ip={}", ip);
    co_await refuse_request(stream, [](net::Response& res, const Call& call, bool keep_alive) {
      finish_response(res, call, keep_alive);
    }, ErrorCode::invalid_field, "This port serves HTTPS only: use https://.");
    co_return;
  }
  TlsStream tls_stream(std::move(stream), *tls_);
  auto [handshake_ec, used] =
      co_await tls_stream.async_handshake(ssl::stream_base::server, buffer.data(), as_tuple);
  if (handshake_ec) {
    spdlog::debug("TLS handshake failed ip={}: {}", ip, handshake_ec.message());
    co_return;
  }
  buffer.consume(used);
  co_await session(tls_stream, std::move(buffer), ip);
}

template <class Stream>
awaitable<void> Server::session(Stream& stream, beast::flat_buffer buffer, const std::string& ip) {
  const HttpSettings& settings = app_.settings;
  auto finisher = [this](net::Response& res, const Call& call, bool keep_alive) { finish(res, call, keep_alive); };
  auto refuse = [&](ErrorCode code, std::string message, unsigned status = 0) {
    return refuse_request(stream, finisher, code, std::move(message), status);
  };

  bool first_request = true;
  while (!stopping_) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(settings.body_limit);
    parser.header_limit(static_cast<std::uint32_t>(settings.header_limit));
    // A fresh connection must send its head within head_timeout; a kept-alive one may idle
    // first (idle_timeout). Either way the head, once begun, must arrive whole within head_timeout (beast's
    // deadline is absolute, so a byte now and then does not extend it).
    if (!first_request) {
      if (auto idle_ec = co_await wait_for_request(stream, buffer, limits_.idle_timeout); idle_ec) break;
    }
    first_request = false;
    tcp_of(stream).expires_after(limits_.head_timeout);
    auto [read_ec, header_bytes] = co_await http::async_read_header(stream, buffer, parser, as_tuple);
    tcp_of(stream).expires_after(settings.read_timeout);  // the body
    // Before anything else is answered (100-continue, the Host check): an ambiguous body may
    // hold a smuggled request, so the connection ends here.
    if (!read_ec) {
      if (auto problem = framing_problem(parser.get().base())) {
        spdlog::info("request framing refused ip={}: {}", ip, problem->message);
        co_await refuse(ErrorCode::invalid_field,
                        std::move(problem->message), problem->status);
        break;
      }
    }
    if (!read_ec && beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      http::response<http::empty_body> go_on{http::status::continue_, 11};
      auto [continue_ec, n] = co_await http::async_write(stream, go_on, as_tuple);
      read_ec = continue_ec;
    }
    if (!read_ec) std::tie(read_ec, header_bytes) = co_await http::async_read(stream, buffer, parser, as_tuple);
    if (read_ec) {
      if (read_ec == http::error::body_limit) {
        co_await refuse(ErrorCode::body_too_large, "The body is larger than " + std::to_string(settings.body_limit) +
                                                       " bytes.");
      } else if (read_ec == http::error::header_limit) {
        co_await refuse(ErrorCode::invalid_field, "The request headers are too large.",
                        static_cast<unsigned>(http::status::request_header_fields_too_large));
      } else if (!quiet_close(read_ec) && read_ec.category() == make_error_code(http::error::bad_target).category()) {
        co_await refuse(ErrorCode::invalid_field, "The request is not valid HTTP/1.1.");
      }
      break;
    }

    ++in_flight_;
    const auto started = std::chrono::steady_clock::now();
    net::Request req = parser.release();
    Routed routed = metrics_only_ ? route_metrics_listener(app_, req, ip) : route_request(app_, req, ip, now_ms());
    Handled handled{net::Response{}, std::nullopt};
    try {
      if (routed.answer) {
        handled.reply = std::move(*routed.answer);
      } else if (routed.blocking) {
        handled = co_await asio::co_spawn(workers_, run_on_worker(app_, routed), use_awaitable);
      } else {
        handled = handle(app_, routed);
      }
      if (auto* pending = std::get_if<Pending>(&handled.reply)) {
        handled.reply = co_await await_command(app_, *pending, std::move(handled.first));
      }
    } catch (const std::exception& e) {
      spdlog::error("request {} failed: {}", routed.call.ctx.source.request_id, e.what());
      handled.reply = error_response(Error::internal("Something went wrong on our side; nothing was changed."));
    }
    if (auto* streamed = std::get_if<Streamed>(&handled.reply)) {
      log_request(app_, req, routed, streamed->head.result_int(), started);
      const bool ok = co_await write_stream(stream, *streamed, routed.call);
      --in_flight_;
      if (!ok || !req.keep_alive()) break;
      continue;
    }
    net::Response& res = std::get<net::Response>(handled.reply);
    const bool keep_alive = req.keep_alive() && !stopping_;
    finish(res, routed.call, keep_alive);
    log_request(app_, req, routed, res.result_int(), started);
    tcp_of(stream).expires_after(settings.read_timeout);
    // One buffer, one send (responses.hpp: wire_bytes), not Beast's serializer: it showed in
    // the introspection profile.
    const std::string bytes = wire_bytes(res);
    auto [write_ec, written] = co_await asio::async_write(stream, asio::buffer(bytes), as_tuple);
    --in_flight_;
    if (write_ec || !keep_alive) break;
  }
  co_await end_connection(stream);
}

}  // namespace tl
