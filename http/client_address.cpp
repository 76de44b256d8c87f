#include "http/client_address.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace tl {
namespace {

namespace ip = boost::asio::ip;

// IPv4-mapped IPv6 as IPv4, so one --trusted-proxy 10.0.0.0/8 covers both socket families.
ip::address unmapped(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

std::optional<ip::address> parse_address(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  boost::system::error_code ec;
  const ip::address a = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  // A zone ("fe80::1%eth0") names an interface of the sender's host: meaningless here.
  if (a.is_v6() && a.to_v6().scope_id() != 0) return std::nullopt;
  return unmapped(a);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A port: 1-5 digits, at most 65535.
bool is_port(std::string_view s) {
  return !s.empty() && s.size() <= 5 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
         std::stoul(std::string(s)) <= 65535;
}

// A node (RFC 7239 §6): IPv4 [":" port] or "[" IPv6 "]" [":" port]; a bare IPv6 address too,
// as X-Forwarded-For writes it. "unknown" and obfuscated names ("_hidden") are not addresses.
std::optional<ip::address> parse_node(std::string_view node) {
  if (node.starts_with('[')) {
    const auto close = node.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const auto rest = node.substr(close + 1);
    if (!rest.empty() && !(rest.front() == ':' && is_port(rest.substr(1)))) return std::nullopt;
    const auto inner = node.substr(1, close - 1);
    if (inner.find(':') == std::string_view::npos) return std::nullopt;  // brackets hold IPv6 only
    return parse_address(inner);
  }
  if (const auto colon = node.find(':');
      colon != std::string_view::npos && node.find(':', colon + 1) == std::string_view::npos) {
    if (!is_port(node.substr(colon + 1))) return std::nullopt;
    auto a = parse_address(node.substr(0, colon));
    return a && a->is_v4() ? a : std::nullopt;
  }
  return parse_address(node);
}

// Splits at commas outside quoted strings (a quoted value may hold one).
std::vector<std::string_view> split_list(std::string_view list) {
  std::vector<std::string_view> parts;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (quoted && list[i] == '\\') {
      ++i;
    } else if (list[i] == '"') {
      quoted = !quoted;
    } else if (list[i] == ',' && !quoted) {
      parts.push_back(trim(list.substr(start, i - start)));
      start = i + 1;
    }
  }
  parts.push_back(trim(list.substr(start)));
  return parts;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The `for` node of one forwarded-element ("for=192.0.2.1;proto=https;by=…"), its quotes
// removed; nullopt when there is none or it is given twice.
std::optional<std::string> for_node(std::string_view element) {
  std::optional<std::string> found;
  while (!element.empty()) {
    std::size_t end = 0;
    bool quoted = false;
    for (; end < element.size(); ++end) {
      if (quoted && element[end] == '\\') {
        ++end;
      } else if (element[end] == '"') {
        quoted = !quoted;
      } else if (element[end] == ';' && !quoted) {
        break;
      }
    }
    const std::string_view pair = trim(element.substr(0, end));
    element = end < element.size() ? element.substr(end + 1) : std::string_view{};
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    if (!iequals(trim(pair.substr(0, eq)), "for")) continue;
    if (found) return std::nullopt;
    std::string_view value = trim(pair.substr(eq + 1));
    std::string text;
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      for (std::size_t i = 1; i + 1 < value.size(); ++i) {
        if (value[i] == '\\' && i + 2 < value.size()) ++i;
        text.push_back(value[i]);
      }
    } else {
      // A token (RFC 9110 §5.6.2): an IPv6 address or a port needs the quotes.
      if (value.empty() || !std::all_of(value.begin(), value.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) ||
                   std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
          })) {
        return std::nullopt;
      }
      text = std::string(value);
    }
    found = std::move(text);
  }
  return found;
}

}  // namespace

std::optional<Cidr> parse_cidr(std::string_view text) {
  const auto slash = text.find('/');
  auto address = parse_address(text.substr(0, slash));
  if (!address) return std::nullopt;
  const unsigned max = address->is_v4() ? 32 : 128;
  unsigned prefix = max;
  if (slash != std::string_view::npos) {
    const auto bits = text.substr(slash + 1);
    if (bits.empty() || bits.size() > 3 ||
        !std::all_of(bits.begin(), bits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    prefix = static_cast<unsigned>(std::stoul(std::string(bits)));
    if (prefix > max) return std::nullopt;
  }
  return Cidr{*address, prefix};
}

bool contains(const Cidr& range, const ip::address& address) {
  const ip::address a = unmapped(address);
  if (a.is_v4() != range.network.is_v4()) return false;
  std::array<unsigned char, 16> x{}, y{};
  std::size_t size = 0;
  if (a.is_v4()) {
    const auto p = a.to_v4().to_bytes(), q = range.network.to_v4().to_bytes();
    std::copy(p.begin(), p.end(), x.begin());
    std::copy(q.begin(), q.end(), y.begin());
    size = 4;
  } else {
    x = a.to_v6().to_bytes();
    y = range.network.to_v6().to_bytes();
    size = 16;
  }
  unsigned bits = range.prefix;
  for (std::size_t i = 0; i < size && bits > 0; ++i) {
    const unsigned take = std::min(bits, 8u);
    const auto mask = static_cast<unsigned char>(0xFF00u >> take);
    if ((x[i] & mask) != (y[i] & mask)) return false;
    bits -= take;
  }
  return true;
}

bool in_any(const std::vector<Cidr>& ranges, const ip::address& address) {
  return std::any_of(ranges.begin(), ranges.end(), [&](const Cidr& r) { return contains(r, address); });
}

std::string client_address(const ip::address& peer, const std::vector<Cidr>& trusted, std::string_view forwarded,
                           std::string_view x_forwarded_for) {
  const ip::address own = unmapped(peer);
  if (!in_any(trusted, own)) return own.to_string();
  const bool standard = !trim(forwarded).empty();
  const std::string_view header = standard ? forwarded : x_forwarded_for;
  if (trim(header).empty()) return own.to_string();
  const auto entries = split_list(header);
  std::optional<ip::address> client;
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    std::optional<ip::address> hop;
    if (standard) {
      if (auto node = for_node(*it)) hop = parse_node(*node);
    } else {
      hop = parse_node(*it);
    }
    if (!hop) return own.to_string();
    client = hop;
    if (!in_any(trusted, *hop)) break;
  }
  return client->to_string();
}

}  // namespace tl
