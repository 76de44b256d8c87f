// The HTTP edge checks that need no socket: Host against DNS rebinding, --public-url, and the
// strict body framing (http/host_check.hpp, http/request_framing.hpp).
#include "http/host_check.hpp"

#include <gtest/gtest.h>

#include "http/request_framing.hpp"

namespace tl {
namespace {

std::vector<PublicUrl> urls(std::initializer_list<const char*> texts) {
  std::vector<PublicUrl> out;
  for (const char* t : texts) {
    auto u = parse_public_url(t);
    EXPECT_TRUE(u.ok()) << t;
    if (u) out.push_back(*u);
  }
  return out;
}

// "ok-local", "ok-public", or the error code's name.
std::string verdict(std::vector<std::string_view> hosts, const std::vector<PublicUrl>& public_urls = {}) {
  auto r = check_host(hosts, public_urls);
  if (!r) return std::string(code_name(r.error().code));
  return *r == HostKind::local ? "ok-local" : "ok-public";
}

TEST(HostCheckTest, ParsesPublicUrlsToOrigins) {
  auto u = parse_public_url("https://Tokens.Example.com/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->origin, "https://tokens.example.com");
  EXPECT_EQ(u->host, "tokens.example.com");
  EXPECT_EQ(u->port, 443u);
  EXPECT_TRUE(u->https);
  u = parse_public_url("http://tokens.internal:8443");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->origin, "http://tokens.internal:8443");
  EXPECT_EQ(u->port, 8443u);
  EXPECT_FALSE(u->https);
  EXPECT_EQ(parse_public_url("https://tokens.example.com:443")->origin, "https://tokens.example.com");
  EXPECT_EQ(parse_public_url("https://[2001:db8::1]:8443")->origin, "https://[2001:db8::1]:8443");
  for (const char* bad : {"tokens.example.com", "ftp://x", "https://", "https://x/path", "https://u@x", "https://x?q",
                          "https://x:99999", "https://x:80a", "https://[::1"}) {
    auto r = parse_public_url(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("--public-url"), std::string::npos) << r.error().message;
  }
}

TEST(HostCheckTest, IpLiteralsAndLocalhostPassOnAnyPort) {
  EXPECT_EQ(verdict({"127.0.0.1"}), "ok-local");
  EXPECT_EQ(verdict({"127.0.0.1:8080"}), "ok-local");
  EXPECT_EQ(verdict({"192.0.2.7:1"}), "ok-local");
  EXPECT_EQ(verdict({"[::1]:8080"}), "ok-local");
  EXPECT_EQ(verdict({"[::1]"}), "ok-local");
  EXPECT_EQ(verdict({"localhost:9"}), "ok-local");
  EXPECT_EQ(verdict({"LocalHost"}), "ok-local");
}

TEST(HostCheckTest, AnyOtherNameIsMisdirected) {
  // DNS rebinding: the attacker's name resolves to the loopback address.
  EXPECT_EQ(verdict({"evil.example:8080"}), "misdirected_request");
  EXPECT_EQ(verdict({"evil.example"}, urls({"https://tokens.example.com"})), "misdirected_request");
  EXPECT_EQ(verdict({"localhost.evil.example"}), "misdirected_request");
  EXPECT_EQ(verdict({"127.1"}), "misdirected_request");  // not an IP literal in Host's grammar
}

TEST(HostCheckTest, APublicUrlsHostPassesWithItsPortOrNone) {
  const auto public_urls = urls({"https://tokens.example.com", "http://tl.internal:8080"});
  EXPECT_EQ(verdict({"tokens.example.com"}, public_urls), "ok-public");
  EXPECT_EQ(verdict({"TOKENS.example.COM:443"}, public_urls), "ok-public");
  EXPECT_EQ(verdict({"tokens.example.com:8443"}, public_urls), "misdirected_request");
  EXPECT_EQ(verdict({"tl.internal:8080"}, public_urls), "ok-public");
  EXPECT_EQ(verdict({"tl.internal"}, public_urls), "ok-public");
  EXPECT_EQ(verdict({"tl.internal:80"}, public_urls), "misdirected_request");
}

TEST(HostCheckTest, MissingRepeatedOrMalformedHostIsABadRequest) {
  EXPECT_EQ(verdict({}), "invalid_field");
  EXPECT_EQ(verdict({"127.0.0.1", "127.0.0.1"}), "invalid_field");
  EXPECT_EQ(verdict({""}), "invalid_field");
  for (std::string_view bad : {"a b", "user@127.0.0.1", "127.0.0.1:x", "127.0.0.1:99999", "[::1", "[::1]x",
                               "[127.0.0.1]", "127.0.0.1/x", "\xc3\xa9.example"}) {
    EXPECT_EQ(verdict({bad}), "invalid_field") << bad;
  }
}

net::http::request_header<> head(unsigned version, std::vector<std::pair<const char*, const char*>> fields) {
  net::http::request_header<> h;
  h.version(version);
  h.method(net::http::verb::post);
  h.target("/api/v1/session");
  for (const auto& [name, value] : fields) h.insert(name, value);
  return h;
}

unsigned framing(unsigned version, std::vector<std::pair<const char*, const char*>> fields) {
  const auto problem = framing_problem(head(version, std::move(fields)));
  return problem ? problem->status : 0;
}

TEST(RequestFramingTest, OnlyExactlyChunkedOrOneContentLengthPasses) {
  EXPECT_EQ(framing(11, {}), 0u);
  EXPECT_EQ(framing(11, {{"Content-Length", "5"}}), 0u);
  EXPECT_EQ(framing(11, {{"Transfer-Encoding", "chunked"}}), 0u);
  EXPECT_EQ(framing(11, {{"Transfer-Encoding", "Chunked"}}), 0u);
  EXPECT_EQ(framing(10, {{"Content-Length", "5"}}), 0u);
}

TEST(RequestFramingTest, UnknownCodingsAre501) {
  EXPECT_EQ(framing(11, {{"Transfer-Encoding", "gzip"}}), 501u);
  EXPECT_EQ(framing(11, {{"Transfer-Encoding", "xchunked"}}), 501u);
  EXPECT_EQ(framing(11, {{"Transfer-Encoding", "identity"}}), 501u);
  EXPECT_EQ(framing(11, {{"Transfer-Encoding", "chunked, identity"}}), 501u);
  EXPECT_EQ(framing(11, {{"Transfer-Encoding", "gzip, chunked"}}), 501u);
  EXPECT_EQ(framing(11, {{"Transfer-Encoding", "gzip"}, {"Transfer-Encoding", "chunked"}}), 501u);
}

TEST(RequestFramingTest, AmbiguousFramingIs400) {
  EXPECT_EQ(framing(11, {{"Transfer-Encoding", "gzip"}, {"Content-Length", "5"}}), 400u);
  EXPECT_EQ(framing(11, {{"Transfer-Encoding", "chunked"}, {"Content-Length", "5"}}), 400u);
  EXPECT_EQ(framing(10, {{"Transfer-Encoding", "chunked"}}), 400u);
  EXPECT_EQ(framing(11, {{"Transfer-Encoding", "chunked, chunked"}}), 400u);
  EXPECT_EQ(framing(11, {{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}}), 400u);
  EXPECT_EQ(framing(11, {{"Transfer-Encoding", ""}}), 400u);
  EXPECT_EQ(framing(11, {{"Content-Length", "5"}, {"Content-Length", "5"}}), 400u);
  EXPECT_EQ(framing(11, {{"Content-Length", "5, 5"}}), 400u);
}

}  // namespace
}  // namespace tl
