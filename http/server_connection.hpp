// Private to the server's translation units (server.cpp, server_plain.cpp, server_tls.cpp): the
// helpers a connection's coroutines share. Stream-generic code is written once, as templates, and
// compiled per stream type in its own file (server_session.hpp), so the plain and TLS sessions
// build in parallel and server.cpp does not pull in OpenSSL.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <type_traits>

#include "http/call.hpp"
#include "http/responses.hpp"
#include "http/router.hpp"

namespace tl::server_detail {

namespace asio = net::asio;
namespace beast = net::beast;
namespace http = net::http;
using asio::awaitable;
using asio::use_awaitable;
inline constexpr auto as_tuple = asio::as_tuple(use_awaitable);

// Timeouts and the socket live in the TCP layer under either stream (plain, or TLS over TCP).
template <class Stream>
beast::tcp_stream& tcp_of(Stream& stream) {
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    return stream;
  } else {
    return stream.next_layer();
  }
}

// Stops sending, so a client reading until EOF sees the answer is complete. Over TLS the
// close_notify at the end of the session says that instead (a bare FIN would cut TLS short).
template <class Stream>
void stop_sending(Stream& stream) {
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    beast::error_code ignored;
    stream.socket().shutdown(net::tcp::socket::shutdown_send, ignored);
  }
}

// Ends a connection. TLS sends close_notify and waits briefly for the client's: bounded,
// since a client may just close the socket instead.
template <class Stream>
awaitable<void> end_connection(Stream& stream) {
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    stop_sending(stream);
  } else {
    tcp_of(stream).expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(as_tuple);
  }
}

// One request routed and handled: its reply is a response or a streamed body (a command's
// appends already awaited); `started` is when its handling began, for the access log.
struct Answered {
  Routed routed;
  Reply reply;
  std::chrono::steady_clock::time_point started;
};

// Routes and handles one request: handlers that touch the disk on the worker pool, a command's
// appends awaited with no thread waiting on the fsync. The same for every stream type, so it is
// compiled once (server.cpp). `metrics_only`: the --metrics-listen listener.
awaitable<Answered> answer(App& app, asio::thread_pool& workers, bool metrics_only, const net::Request& req,
                           const std::string& ip);

// A read error that is the client leaving (EOF, reset, timeout), not a malformed request.
bool quiet_close(const beast::error_code& ec);
void log_request(App& app, const net::Request& req, const Routed& routed, unsigned status,
                 std::chrono::steady_clock::time_point started);
// Whether the client has closed its side (an orderly FIN, read without taking a byte): an idle
// live stream learns it without writing, so its per-user slot (StreamSlots) is given back at
// once rather than at the next keep-alive write.
bool peer_closed(net::tcp::socket& socket);
// nullopt when the caller lost access (StreamBody::allowed): the body ends there.
awaitable<std::optional<bool>> next_piece(StreamBody& body, std::string& out);
// The metrics listener (--metrics-listen) routes only /metrics (its own handler: no secret,
// the address is the protection) and /healthz; nothing else is routed there, so no credential
// is ever looked at on it.
Routed route_metrics_listener(App& app, const net::Request& req, const std::string& ip);

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

}  // namespace tl::server_detail
