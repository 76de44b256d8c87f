#include "http/request_framing.hpp"

#include <string_view>
#include <vector>

namespace tl {
namespace {

namespace http = net::http;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Every coding of every Transfer-Encoding line, in order ("" for an empty list member).
std::vector<std::string_view> codings(const http::request_header<>& head) {
  std::vector<std::string_view> out;
  const auto [first, last] = head.equal_range(http::field::transfer_encoding);
  for (auto it = first; it != last; ++it) {
    std::string_view value = it->value();
    for (;;) {
      const auto comma = value.find(',');
      out.push_back(trim(value.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  return out;
}

}  // namespace

std::optional<FramingProblem> framing_problem(const http::request_header<>& head) {
  const auto lengths = head.count(http::field::content_length);
  const auto te_lines = head.count(http::field::transfer_encoding);
  // Beast takes "5, 5" or two equal lines as one length; a proxy may take either, or refuse.
  if (lengths > 1 || (lengths == 1 && head[http::field::content_length].find(',') != std::string_view::npos)) {
    return FramingProblem{400, "Content-Length is given more than once."};
  }
  if (te_lines == 0) return std::nullopt;
  if (lengths > 0) return FramingProblem{400, "Transfer-Encoding and Content-Length together are ambiguous."};
  if (head.version() < 11) return FramingProblem{400, "Transfer-Encoding needs HTTP/1.1."};
  const auto list = codings(head);
  for (std::string_view coding : list) {
    if (!coding.empty() && !net::beast::iequals(coding, "chunked")) {
      return FramingProblem{501, "Transfer-Encoding: only chunked is supported."};
    }
  }
  if (list.size() != 1 || list.front().empty()) {
    return FramingProblem{400, "Transfer-Encoding must be exactly 'chunked'."};
  }
  return std::nullopt;
}

}  // namespace tl
