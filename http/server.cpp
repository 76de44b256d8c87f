#include "http/server.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "common/time_format.hpp"
#include "http/access_notes.hpp"
#include "http/server_connection.hpp"

namespace tl {
namespace server_detail {

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

bool peer_closed(net::tcp::socket& socket) {
  char byte = 0;
  return ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

awaitable<std::optional<bool>> next_piece(StreamBody& body, std::string& out) {
  if (body.allowed && !body.allowed()) co_return std::nullopt;
  co_return body.next(out);
}

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

awaitable<Answered> answer(App& app, asio::thread_pool& workers, bool metrics_only, const net::Request& req,
                           const std::string& ip) {
  const auto started = std::chrono::steady_clock::now();
  // Other nodes append to the log: a write (and the caller's rights, and whether it changes
  // anything) is judged on the log as it stands now, not on this node's memory a moment behind.
  std::optional<Error> behind;
  if (!metrics_only && app.store.has_other_writers() && route_writes(req)) {
    AppendRequest barrier;  // named: GCC 12 destroys a temporary of a co_await expression twice
    auto caught_up = co_await async_append(app.store, std::move(barrier), use_awaitable);
    if (!caught_up) behind = std::move(caught_up).error();
  }
  Answered answered{metrics_only ? route_metrics_listener(app, req, ip) : route_request(app, req, ip, now_ms()),
                    net::Response{}, started};
  Routed& routed = answered.routed;
  if (behind && !routed.answer) {
    routed.answer = error_response(*behind);  // 503: the database is out of reach
    routed.answer->set(http::field::retry_after, "1");
  }
  try {
    Handled handled{net::Response{}, std::nullopt};
    if (routed.answer) {
      handled.reply = std::move(*routed.answer);
    } else if (routed.blocking) {
      handled = co_await asio::co_spawn(workers, run_on_worker(app, routed), use_awaitable);
    } else {
      handled = handle(app, routed);
    }
    if (auto* pending = std::get_if<Pending>(&handled.reply)) {
      handled.reply = co_await await_command(app, *pending, std::move(handled.first));
    }
    answered.reply = std::move(handled.reply);
  } catch (const std::exception& e) {
    spdlog::error("request {} failed: {}", routed.call.ctx.source.request_id, e.what());
    answered.reply = error_response(Error::internal("Something went wrong on our side; nothing was changed."));
  }
  note_answer(app, routed, answered.reply);  // queued, never awaited
  co_return answered;
}

}  // namespace server_detail

using namespace server_detail;

namespace {

// Over a connection limit: a short 503, written without waiting (it fits the fresh socket's
// send buffer), then the connection is closed. Over TLS a plain-text 503 would be noise to the
// client: closing says as much.
void refuse_connection(net::tcp::socket& socket, std::string_view why, bool tls) {
  beast::error_code ec;
  if (!tls) {
    const std::string body = R"({"error":{"code":"unavailable","message":")" + std::string(why) + R"("}})";
    const std::string response =
        "HTTP/1.1 503 Service Unavailable\r\nServer: tokenledger\r\nContent-Type: application/json\r\n"
        "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body;
    socket.non_blocking(true, ec);
    socket.write_some(asio::buffer(response), ec);
    socket.shutdown(net::tcp::socket::shutdown_both, ec);
  }
  socket.close(ec);
}

}  // namespace

// Every response's common headers; over TLS also HSTS, so browsers keep to https:// for a year.
void Server::finish(net::Response& res, const Call& call, bool keep_alive) const {
  finish_response(res, call, keep_alive);
  if (tls_) res.set(http::field::strict_transport_security, "max-age=31536000");
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
  if (tls_) {
    co_await serve_tls(std::move(stream), ip);  // server_tls.cpp
  } else {
    co_await session(stream, beast::flat_buffer{}, ip);  // server_plain.cpp
  }
}

}  // namespace tl
