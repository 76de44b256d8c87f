#include "http/host_check.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <optional>

namespace tl {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_address(std::string_view text, bool v6) {
  boost::system::error_code ec;
  const auto a = boost::asio::ip::make_address(std::string(text), ec);
  return !ec && a.is_v6() == v6 && !(v6 && a.to_v6().scope_id() != 0);
}

// A DNS name as a Host may carry it: letters, digits, '-', '.', '_' (reg-name, RFC 3986 §3.2.2,
// without percent-encoding or sub-delimiters, which no server name needs).
bool is_name(std::string_view text) {
  return !text.empty() && text.size() <= 253 && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
  });
}

struct HostPort {
  std::string host;  // lower case; an IPv6 literal keeps its brackets
  std::optional<unsigned> port;
  bool literal = false;
};

// uri-host [":" port] (RFC 9110 §7.2); an empty port ("name:") counts as none.
std::optional<HostPort> split_host(std::string_view text) {
  HostPort out;
  std::string_view rest;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || !is_address(text.substr(1, close - 1), true)) return std::nullopt;
    out.host = lower(text.substr(0, close + 1));
    out.literal = true;
    rest = text.substr(close + 1);
  } else {
    const auto colon = text.find(':');
    const auto name = text.substr(0, colon);
    if (!is_name(name)) return std::nullopt;
    out.host = lower(name);
    out.literal = is_address(name, false);
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
  }
  if (rest.empty()) return out;
  if (rest.front() != ':') return std::nullopt;
  rest.remove_prefix(1);
  if (rest.empty()) return out;
  if (rest.size() > 5 || !std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  const unsigned port = static_cast<unsigned>(std::stoul(std::string(rest)));
  if (port > 65535) return std::nullopt;
  out.port = port;
  return out;
}

}  // namespace

Result<PublicUrl> parse_public_url(std::string_view url) {
  const auto bad = [&] {
    return Error::invalid_field("--public-url '" + std::string(url.substr(0, 200)) +
                                "': give it as https://host[:port] (or http://), without a path");
  };
  PublicUrl out;
  if (url.find("://") == std::string_view::npos) return bad();
  const std::string scheme = lower(url.substr(0, url.find("://")));
  if (scheme == "https") {
    out.https = true;
  } else if (scheme != "http") {
    return bad();
  }
  std::string_view authority = url.substr(scheme.size() + 3);
  if (authority.ends_with('/')) authority.remove_suffix(1);
  auto host = split_host(authority);
  if (!host || host->host.empty()) return bad();
  const unsigned default_port = out.https ? 443 : 80;
  out.host = host->host;
  out.port = host->port.value_or(default_port);
  out.origin = scheme + "://" + out.host + (out.port == default_port ? "" : ":" + std::to_string(out.port));
  return out;
}

Result<HostKind> check_host(const std::vector<std::string_view>& values, const std::vector<PublicUrl>& public_urls) {
  if (values.empty()) return Error::invalid_field("The Host header is required.");
  if (values.size() > 1) return Error::invalid_field("The Host header is given more than once.");
  const auto host = split_host(values.front());
  if (!host || host->host.empty()) return Error::invalid_field("The Host header is malformed.");
  if (host->literal || host->host == "localhost") return HostKind::local;
  for (const PublicUrl& url : public_urls) {
    if (url.host == host->host && (!host->port || *host->port == url.port)) return HostKind::public_;
  }
  return Error{ErrorCode::misdirected_request,
               "This server does not answer for that host name (see its --public-url option)."};
}

}  // namespace tl
