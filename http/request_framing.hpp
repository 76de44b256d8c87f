// How a request's body is delimited, checked strictly (RFC 9112 §6.1, §6.3) once its head is
// read: behind a proxy that reads the framing another way, any leniency lets a body carry a
// second, smuggled request. Beast alone accepts `Transfer-Encoding: gzip` with a
// Content-Length (the body bytes then parse as the next request) and HTTP/1.0 with chunked.
#pragma once

#include <optional>
#include <string>

#include "http/net.hpp"

namespace tl {

// Why a request head's framing is refused: `status` is 400 or 501 (a transfer coding this
// server does not implement, RFC 9112 §6.1); the connection is then closed.
struct FramingProblem {
  unsigned status;
  std::string message;
};

// nullopt when the framing is unambiguous: no Transfer-Encoding, or exactly `chunked` (case
// insensitive) on HTTP/1.1 without Content-Length; and Content-Length, if any, given once.
std::optional<FramingProblem> framing_problem(const net::http::request_header<>& head);

}  // namespace tl
