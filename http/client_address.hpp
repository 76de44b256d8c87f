// Who the client is when tokenledger runs behind a reverse proxy: address ranges (CIDR) of the
// proxies the operator trusts (--trusted-proxy), and the client address they forward in
// `Forwarded: for=` (RFC 7239 §4, §5.2, §6) or `X-Forwarded-For`. Headers from any other peer
// are ignored: anyone can send them.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tl {

// An address range: the first `prefix` bits of `network` (IPv4: 0-32, IPv6: 0-128).
struct Cidr {
  boost::asio::ip::address network;
  unsigned prefix = 0;
};

// "192.0.2.0/24", "2001:db8::/32", or a single address ("10.0.0.1" = /32, "::1" = /128).
// Host bits past the prefix are ignored. nullopt when malformed or the prefix is too long.
std::optional<Cidr> parse_cidr(std::string_view text);

// True when `address` lies in `range`. An IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a
// dual-stack socket reports IPv4 peers) counts as its IPv4 address.
bool contains(const Cidr& range, const boost::asio::ip::address& address);
bool in_any(const std::vector<Cidr>& ranges, const boost::asio::ip::address& address);

// The audited client address of a request from the socket peer `peer`. Unless the peer lies in
// `trusted`, that is the peer. Otherwise the forwarded chain is read right to left (the
// right-most entry was added by the nearest proxy) and the first address not itself in
// `trusted` is the client; when every entry is trusted, the left-most. `Forwarded` (all its
// field lines joined by ", ") is used when given, else `X-Forwarded-For`. A chain holding a
// malformed, obfuscated ("_x") or "unknown" node on the way gives the peer: nothing in it can
// then be vouched for. Returns the address in its usual text form (IPv4-mapped shown as IPv4).
std::string client_address(const boost::asio::ip::address& peer, const std::vector<Cidr>& trusted,
                           std::string_view forwarded, std::string_view x_forwarded_for);

}  // namespace tl
