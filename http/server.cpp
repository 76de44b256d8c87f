#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "eventstore/time_format.hpp"
#include "http/responses.hpp"
#include "http/router.hpp"

namespace tl {
namespace {

namespace asio = net::asio;
namespace beast = net::beast;
namespace http = net::http;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto as_tuple = asio::as_tuple(use_awaitable);

awaitable<net::Response> run_on_worker(App& app, Routed& routed) { co_return routed.handler(app, routed.call); }

bool quiet_close(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
         ec == asio::error::connection_reset || ec == asio::error::eof;
}

void log_request(App& app, const net::Request& req, const Routed& routed, unsigned status,
                 std::chrono::steady_clock::time_point started) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
  app.metrics.record(req.method_string(), routed.route_name, status, static_cast<double>(micros) / 1e6);
  spdlog::info("{} {} {} {:.3f}ms ip={} id={}", std::string_view(req.method_string()), routed.route_name, status,
               static_cast<double>(micros) / 1000.0, routed.call.ctx.source.ip, routed.call.ctx.source.request_id);
}

awaitable<bool> next_piece(StreamBody& body, std::string& out) { co_return body.next(out); }

// Over the connection limit: a short 503, written without waiting (it fits the fresh socket's
// send buffer), then the connection is closed.
void refuse_connection(net::tcp::socket& socket) {
  static const std::string kBody =
      R"({"error":{"code":"unavailable","message":"Too many connections; try again shortly."}})";
  static const std::string kResponse =
      "HTTP/1.1 503 Service Unavailable\r\nServer: tokenledger\r\nContent-Type: application/json\r\n"
      "Retry-After: 1\r\nConnection: close\r\nContent-Length: " + std::to_string(kBody.size()) + "\r\n\r\n" + kBody;
  beast::error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(asio::buffer(kResponse), ec);
  socket.shutdown(net::tcp::socket::shutdown_both, ec);
  socket.close(ec);
  spdlog::warn("connection refused: the limit of open connections is reached");
}

// Waits for the first byte of the next request on a kept-alive connection for at most `idle`,
// before the head's deadline starts.
awaitable<beast::error_code> wait_for_request(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                              std::chrono::seconds idle) {
  if (buffer.size() > 0) co_return beast::error_code{};
  stream.expires_after(idle);
  auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), as_tuple);
  buffer.commit(n);
  co_return ec;
}

}  // namespace

// Writes the head, then the body in chunks as `next` produces them. A live stream waits and
// asks again until the client leaves or the server stops, with a comment line now and then so
// that proxies keep the connection open.
awaitable<bool> Server::write_stream(beast::tcp_stream& stream, net::Response& head, Routed& routed) {
  StreamBody& body = *routed.call.stream;
  http::response<http::empty_body> header{head.result(), 11};
  for (const auto& field : head) header.set(field.name_string(), field.value());
  header.set(http::field::content_type, body.content_type);
  header.chunked(true);
  net::Response for_headers{head.result(), 11};
  finish_response(for_headers, routed.call, true);
  for (const auto& field : for_headers) {
    if (field.name() != http::field::content_length) header.set(field.name_string(), field.value());
  }
  header.chunked(true);
  http::response_serializer<http::empty_body> serializer{header};
  stream.expires_after(app_.settings.read_timeout);
  if (auto [ec, n] = co_await http::async_write_header(stream, serializer, as_tuple); ec) co_return false;

  asio::steady_timer timer(io_);
  int idle_polls = 0;
  for (;;) {
    std::string piece;
    const bool more = co_await asio::co_spawn(workers_, next_piece(body, piece), use_awaitable);
    if (!piece.empty()) {
      idle_polls = 0;
      stream.expires_after(app_.settings.read_timeout);
      auto [ec, n] = co_await asio::async_write(stream, http::make_chunk(asio::buffer(piece)), as_tuple);
      if (ec) co_return false;
    }
    if (more) continue;
    if (!body.live || stopping_) break;
    if (++idle_polls % 60 == 0) {  // about every 15 s
      stream.expires_after(app_.settings.read_timeout);
      auto [ec, n] = co_await asio::async_write(stream, http::make_chunk(asio::buffer(": keep-alive\n\n", 14)), as_tuple);
      if (ec) co_return false;
    }
    timer.expires_after(std::chrono::milliseconds(250));
    co_await timer.async_wait(as_tuple);
  }
  stream.expires_after(app_.settings.read_timeout);
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
    asio::co_spawn(io_, drain_then_stop(grace), asio::detached);
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
    if (connections_.load() >= limits_.max_connections) {
      refuse_connection(socket);
      continue;
    }
    ++connections_;
    asio::co_spawn(io_, serve(std::move(socket)), [this](const std::exception_ptr&) { --connections_; });
  }
}

awaitable<void> Server::serve(net::tcp::socket socket) {
  beast::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  const std::string ip = ec ? std::string{} : remote.address().to_string();
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  const HttpSettings& settings = app_.settings;

  // Answers a request refused before it was read whole, then closes gently: stops sending and
  // discards (briefly, boundedly) what the client still sends, so that it reads the answer
  // instead of a reset.
  auto refuse = [&](ErrorCode code, std::string message, unsigned status = 0) -> awaitable<void> {
    net::Request none;
    Call call(none);
    call.ctx.source.request_id = "-";
    auto res = error_response({code, std::move(message)});
    if (status != 0) res.result(status);
    finish_response(res, call, false);
    stream.expires_after(std::chrono::seconds(5));
    if (auto [write_ec, n] = co_await http::async_write(stream, res, as_tuple); write_ec) co_return;
    beast::error_code ignored;
    stream.socket().shutdown(net::tcp::socket::shutdown_send, ignored);
    stream.expires_after(std::chrono::seconds(2));
    std::size_t drained = 0;
    char sink[16384];
    while (drained < 1024 * 1024) {
      auto [read_ec, got] = co_await stream.async_read_some(asio::buffer(sink), as_tuple);
      if (read_ec) break;
      drained += got;
    }
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
    stream.expires_after(limits_.head_timeout);
    auto [read_ec, header_bytes] = co_await http::async_read_header(stream, buffer, parser, as_tuple);
    stream.expires_after(settings.read_timeout);  // the body
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
    Routed routed = route_request(app_, req, ip, now_ms());
    net::Response res;
    try {
      if (routed.answer) {
        res = std::move(*routed.answer);
      } else if (routed.blocking) {
        res = co_await asio::co_spawn(workers_, run_on_worker(app_, routed), use_awaitable);
      } else {
        res = routed.handler(app_, routed.call);
      }
    } catch (const std::exception& e) {
      spdlog::error("request {} failed: {}", routed.call.ctx.source.request_id, e.what());
      res = error_response(Error::internal("Something went wrong on our side; nothing was changed."));
    }
    if (routed.call.stream && res.result() == http::status::ok) {
      log_request(app_, req, routed, res.result_int(), started);
      const bool ok = co_await write_stream(stream, res, routed);
      --in_flight_;
      if (!ok || !req.keep_alive()) break;
      continue;
    }
    const bool keep_alive = req.keep_alive() && !stopping_;
    finish_response(res, routed.call, keep_alive);
    log_request(app_, req, routed, res.result_int(), started);
    stream.expires_after(settings.read_timeout);
    auto [write_ec, written] = co_await http::async_write(stream, res, as_tuple);
    --in_flight_;
    if (write_ec || !keep_alive) break;
  }
  stream.socket().shutdown(net::tcp::socket::shutdown_send, ec);
}

}  // namespace tl
