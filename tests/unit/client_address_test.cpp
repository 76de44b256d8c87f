// --trusted-proxy ranges and the forwarded client address (http/client_address.hpp).
#include "http/client_address.hpp"

#include <gtest/gtest.h>

namespace tl {
namespace {

namespace ip = boost::asio::ip;

std::vector<Cidr> ranges(std::initializer_list<const char*> texts) {
  std::vector<Cidr> out;
  for (const char* t : texts) {
    auto c = parse_cidr(t);
    EXPECT_TRUE(c.has_value()) << t;
    if (c) out.push_back(*c);
  }
  return out;
}

bool in(const char* cidr, const char* address) { return contains(*parse_cidr(cidr), ip::make_address(address)); }

TEST(ClientAddressTest, ParsesCidrsAndSingleAddresses) {
  EXPECT_TRUE(parse_cidr("10.0.0.0/8"));
  EXPECT_TRUE(parse_cidr("127.0.0.1"));
  EXPECT_TRUE(parse_cidr("fd00::/8"));
  EXPECT_TRUE(parse_cidr("::1"));
  EXPECT_TRUE(parse_cidr("0.0.0.0/0"));
  EXPECT_EQ(parse_cidr("127.0.0.1")->prefix, 32u);
  EXPECT_EQ(parse_cidr("::1")->prefix, 128u);
  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0/8", "example.com",
                          "10.0.0.0/8/8", "fe80::1%eth0", "10.0.0.0/ 8", "[::1]"}) {
    EXPECT_FALSE(parse_cidr(bad)) << bad;
  }
}

TEST(ClientAddressTest, ContainsComparesThePrefixBits) {
  EXPECT_TRUE(in("10.0.0.0/8", "10.255.1.2"));
  EXPECT_FALSE(in("10.0.0.0/8", "11.0.0.1"));
  EXPECT_TRUE(in("192.168.1.128/25", "192.168.1.200"));
  EXPECT_FALSE(in("192.168.1.128/25", "192.168.1.127"));
  EXPECT_TRUE(in("127.0.0.1", "127.0.0.1"));
  EXPECT_FALSE(in("127.0.0.1", "127.0.0.2"));
  EXPECT_TRUE(in("0.0.0.0/0", "203.0.113.9"));
  EXPECT_TRUE(in("2001:db8::/32", "2001:db8:1::5"));
  EXPECT_FALSE(in("2001:db8::/32", "2001:db9::5"));
  EXPECT_FALSE(in("10.0.0.0/8", "::1"));  // families never mix
  // A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d.
  EXPECT_TRUE(in("10.0.0.0/8", "::ffff:10.1.2.3"));
}

TEST(ClientAddressTest, AnUntrustedPeerIsTheClientWhateverItForwards) {
  const auto trusted = ranges({"127.0.0.1"});
  EXPECT_EQ(client_address(ip::make_address("127.0.0.2"), trusted, "for=198.51.100.7", "198.51.100.8"), "127.0.0.2");
  EXPECT_EQ(client_address(ip::make_address("127.0.0.2"), {}, "", "198.51.100.8"), "127.0.0.2");
}

TEST(ClientAddressTest, ATrustedPeerForwardsTheRightMostUntrustedAddress) {
  const auto trusted = ranges({"127.0.0.1", "10.0.0.0/8"});
  const auto peer = ip::make_address("127.0.0.1");
  EXPECT_EQ(client_address(peer, trusted, "", "198.51.100.8"), "198.51.100.8");
  // The left entries were written by the client itself: only the right-most untrusted counts.
  EXPECT_EQ(client_address(peer, trusted, "", "1.2.3.4, 198.51.100.8, 10.0.0.5"), "198.51.100.8");
  EXPECT_EQ(client_address(peer, trusted, "", " 2001:db8::7 "), "2001:db8::7");
  EXPECT_EQ(client_address(peer, trusted, "", "10.0.0.9, 10.0.0.5"), "10.0.0.9");  // all proxies: the left-most
  EXPECT_EQ(client_address(peer, trusted, "", ""), "127.0.0.1");                   // nothing forwarded
  EXPECT_EQ(client_address(ip::make_address("::ffff:127.0.0.1"), trusted, "", "198.51.100.8"), "198.51.100.8");
}

TEST(ClientAddressTest, ForwardedIsPreferredAndParsedAsRfc7239) {
  const auto trusted = ranges({"127.0.0.1"});
  const auto peer = ip::make_address("127.0.0.1");
  EXPECT_EQ(client_address(peer, trusted, "for=192.0.2.60;proto=http;by=203.0.113.43", "198.51.100.8"), "192.0.2.60");
  EXPECT_EQ(client_address(peer, trusted, R"(For="[2001:db8:cafe::17]:4711")", ""), "2001:db8:cafe::17");
  EXPECT_EQ(client_address(peer, trusted, R"(for="192.0.2.43:80", for=198.51.100.17)", ""), "198.51.100.17");
  EXPECT_EQ(client_address(peer, trusted, R"(for="192.0.2.43", for=127.0.0.1)", ""), "192.0.2.43");
}

TEST(ClientAddressTest, AMalformedChainGivesThePeer) {
  const auto trusted = ranges({"127.0.0.1"});
  const auto peer = ip::make_address("127.0.0.1");
  for (const char* xff : {"not-an-ip", "198.51.100.8, ", "198.51.100.8;x", "999.1.1.1", "[198.51.100.8]",
                          "fe80::1%eth0", "unknown", "198.51.100.8:99999"}) {
    EXPECT_EQ(client_address(peer, trusted, "", xff), "127.0.0.1") << xff;
  }
  for (const char* fwd :
       {"for=unknown", "for=_hidden", "by=203.0.113.43", "for=192.0.2.1;for=192.0.2.2", "for=[2001:db8::1]",
        "for=192.0.2.1:80", "for=\"[2001:db8::1\"", "for", "for=192.0.2.1, garbage"}) {
    EXPECT_EQ(client_address(peer, trusted, fwd, "198.51.100.8"), "127.0.0.1") << fwd;
  }
}

}  // namespace
}  // namespace tl
