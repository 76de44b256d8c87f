// Private to server_plain.cpp and server_tls.cpp: the request loop of one connection, generic
// over the stream, each file instantiating it for its stream type (so the two compile apart, in
// parallel, and an edit to one costs one).
#pragma once

#include <spdlog/spdlog.h>

#include "common/time_format.hpp"
#include "http/request_framing.hpp"
#include "http/server.hpp"
#include "http/server_connection.hpp"

namespace tl {

// Only server_plain.cpp and server_tls.cpp include this file: the helpers' short names (asio,
// beast, http, awaitable) are theirs too.
using namespace server_detail;

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
      auto [ec, n] =
          co_await asio::async_write(stream, http::make_chunk(asio::buffer(": keep-alive\n\n", 14)), as_tuple);
      if (ec) co_return false;
    }
    timer.expires_after(std::chrono::milliseconds(250));
    co_await timer.async_wait(as_tuple);
  }
  tcp_of(stream).expires_after(app_.settings.read_timeout);
  auto [ec, n] = co_await asio::async_write(stream, http::make_chunk_last(), as_tuple);
  co_return !ec && !body.live;
}

// Reads the next request whole, or answers why it cannot be (and the connection then ends:
// nullopt). A fresh connection must send its head within head_timeout; a kept-alive one may idle
// first (idle_timeout). Either way the head, once begun, must arrive whole within head_timeout
// (beast's deadline is absolute, so a byte now and then does not extend it).
template <class Stream>
awaitable<std::optional<net::Request>> Server::read_request(Stream& stream, beast::flat_buffer& buffer,
                                                            bool first_request, const std::string& ip) {
  const HttpSettings& settings = app_.settings;
  auto refuse = [&](ErrorCode code, std::string message, unsigned status = 0) {
    auto finisher = [this](net::Response& res, const Call& call, bool keep_alive) { finish(res, call, keep_alive); };
    return refuse_request(stream, finisher, code, std::move(message), status);
  };
  http::request_parser<http::string_body> parser;
  parser.body_limit(settings.body_limit);
  parser.header_limit(static_cast<std::uint32_t>(settings.header_limit));
  if (!first_request) {
    if (auto idle_ec = co_await wait_for_request(stream, buffer, limits_.idle_timeout); idle_ec) co_return std::nullopt;
  }
  tcp_of(stream).expires_after(limits_.head_timeout);
  auto [read_ec, header_bytes] = co_await http::async_read_header(stream, buffer, parser, as_tuple);
  tcp_of(stream).expires_after(settings.read_timeout);  // the body
  // Before anything else is answered (100-continue, the Host check): an ambiguous body may
  // hold a smuggled request, so the connection ends here.
  if (!read_ec) {
    if (auto problem = framing_problem(parser.get().base())) {
      spdlog::info("request framing refused ip={}: {}", ip, problem->message);
      co_await refuse(ErrorCode::invalid_field, std::move(problem->message), problem->status);
      co_return std::nullopt;
    }
  }
  if (!read_ec && beast::iequals(parser.get()[http::field::expect], "100-continue")) {
    http::response<http::empty_body> go_on{http::status::continue_, 11};
    auto [continue_ec, n] = co_await http::async_write(stream, go_on, as_tuple);
    read_ec = continue_ec;
  }
  if (!read_ec) std::tie(read_ec, header_bytes) = co_await http::async_read(stream, buffer, parser, as_tuple);
  if (!read_ec) co_return parser.release();
  if (read_ec == http::error::body_limit) {
    co_await refuse(ErrorCode::body_too_large,
                    "The body is larger than " + std::to_string(settings.body_limit) + " bytes.");
  } else if (read_ec == http::error::header_limit) {
    co_await refuse(ErrorCode::invalid_field, "The request headers are too large.",
                    static_cast<unsigned>(http::status::request_header_fields_too_large));
  } else if (!quiet_close(read_ec) && read_ec.category() == make_error_code(http::error::bad_target).category()) {
    co_await refuse(ErrorCode::invalid_field, "The request is not valid HTTP/1.1.");
  }
  co_return std::nullopt;
}

// Writes the answer to one request. False when the connection ends.
template <class Stream>
awaitable<bool> Server::respond(Stream& stream, const net::Request& req, Answered& answered) {
  const Routed& routed = answered.routed;
  if (auto* streamed = std::get_if<Streamed>(&answered.reply)) {
    log_request(app_, req, routed, streamed->head.result_int(), answered.started);
    const bool ok = co_await write_stream(stream, *streamed, routed.call);
    co_return ok&& req.keep_alive();
  }
  net::Response& res = std::get<net::Response>(answered.reply);
  const bool keep_alive = req.keep_alive() && !stopping_;
  finish(res, routed.call, keep_alive);
  log_request(app_, req, routed, res.result_int(), answered.started);
  tcp_of(stream).expires_after(app_.settings.read_timeout);
  // One buffer, one send (responses.hpp: wire_bytes), not Beast's serializer: it showed in
  // the introspection profile.
  const std::string bytes = wire_bytes(res);
  auto [write_ec, written] = co_await asio::async_write(stream, asio::buffer(bytes), as_tuple);
  co_return !write_ec && keep_alive;
}

template <class Stream>
awaitable<void> Server::session(Stream& stream, beast::flat_buffer buffer, const std::string& ip) {
  bool first_request = true;
  while (!stopping_) {
    std::optional<net::Request> req = co_await read_request(stream, buffer, first_request, ip);
    first_request = false;
    if (!req) break;
    ++in_flight_;
    server_detail::Answered answered = co_await server_detail::answer(app_, workers_, metrics_only_, *req, ip);
    const bool go_on = co_await respond(stream, *req, answered);
    --in_flight_;
    if (!go_on) break;
  }
  co_await server_detail::end_connection(stream);
}

}  // namespace tl
