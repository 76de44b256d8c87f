// End to end: the HTTP edge of issue 12. Ambiguous body framing is refused and the connection
// closed, so a smuggled second request is never answered (raw bytes on a socket); Host is
// checked against DNS rebinding, --public-url sets the page origin and the __Host- cookie;
// the client's X-Request-Id is kept apart from the server's own id; --trusted-proxy decides
// whose forwarded address is believed (a second loopback address, 127.0.0.2, is the
// untrusted peer).
#include "raw_client.hpp"
#include "test_server.hpp"

namespace e2e {
namespace {

using namespace std::chrono_literals;

using Raw = RawClient;

std::size_t count_of(const std::string& text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

int status_of(const std::string& response) {
  if (response.size() < 12 || !response.starts_with("HTTP/1.1 ")) return 0;
  return std::stoi(response.substr(9, 3));
}

// One request on a fresh connection from `source`, read until the server closes it
// ("Connection: close" is added).
std::string exchange(unsigned short port, std::string request, const char* source = "127.0.0.1") {
  Raw conn(port, source);
  request.insert(request.find("\r\n") + 2, "Connection: close\r\n");
  if (!conn.send(request)) throw std::runtime_error("send failed");
  bool closed = false;
  std::string got = conn.read_until_closed(5000ms, closed);
  if (!closed) throw std::runtime_error("the server kept the connection open: " + got);
  return got;
}

std::string header_of(const std::string& response, std::string name) {
  std::string lower = response.substr(0, response.find("\r\n\r\n"));
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto at = lower.find("\r\n" + name + ": ");
  if (at == std::string::npos) return {};
  const auto start = at + name.size() + 4;
  return response.substr(start, response.find("\r\n", start) - start);
}

// A second request hidden in the first one's body (or after it): answered only when the
// server reads the framing the way a lenient proxy in front would not.
const std::string kSmuggled = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Smuggled: 1\r\n\r\n";

struct FramingCase {
  const char* name;
  std::string head;  // up to and including the blank line
  int status;
};

TEST(EdgeE2E, AmbiguousFramingIsRefusedAndTheSmuggledRequestNeverAnswered) {
  TestServer server;
  server.start();
  const std::string post = "POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
  const std::vector<FramingCase> cases = {
      {"gzip with a length", post + "Transfer-Encoding: gzip\r\nContent-Length: 0\r\n\r\n", 400},
      {"xchunked with a length", post + "Transfer-Encoding: xchunked\r\nContent-Length: 0\r\n\r\n", 400},
      {"chunked, identity with a length", post + "Transfer-Encoding: chunked, identity\r\nContent-Length: 0\r\n\r\n",
       400},
      {"gzip without a length", post + "Transfer-Encoding: gzip\r\n\r\n", 501},
      {"identity", post + "Transfer-Encoding: identity\r\n\r\n", 501},
      {"chunked, identity", post + "Transfer-Encoding: chunked, identity\r\n\r\n", 501},
      {"HTTP/1.0 chunked",
       "POST /api/v1/session HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n"
       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       400},
      {"the same length twice", post + "Content-Length: 0\r\nContent-Length: 0\r\n\r\n", 400},
      {"a length list", post + "Content-Length: 0, 0\r\n\r\n", 400},
  };
  for (const FramingCase& c : cases) {
    Raw conn(server.port());
    conn.send(c.head + kSmuggled);
    bool closed = false;
    const std::string got = conn.read_until_closed(5000ms, closed);
    EXPECT_EQ(status_of(got), c.status) << c.name << " => " << got;
    EXPECT_EQ(header_of(got, "connection"), "close") << c.name << " => " << got;
    EXPECT_TRUE(closed) << c.name << ": the connection stayed open";
    // Every response names the server; a second one would be the smuggled request's.
    EXPECT_EQ(count_of(got, "\r\nServer: tokenledger\r\n"), 1u)
        << c.name << ": the smuggled request was answered => " << got;
  }
  // A framing error is answered before the Host check: a bad Host does not change it.
  Raw conn(server.port());
  conn.send("POST /api/v1/session HTTP/1.1\r\nHost: evil.example\r\nTransfer-Encoding: gzip\r\n\r\n");
  bool closed = false;
  EXPECT_EQ(status_of(conn.read_until_closed(5000ms, closed)), 501);
  // Plain chunked still works.
  const std::string ok =
      exchange(server.port(), "POST /api/v1/introspect HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                                  std::string(kIntrospectionSecret) +
                                  "\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                                  "Transfer-Encoding: chunked\r\n\r\n7\r\ntoken=x\r\n0\r\n\r\n");
  EXPECT_EQ(status_of(ok), 200) << ok;
  EXPECT_NE(ok.find(R"({"active":false})"), std::string::npos) << ok;
}

std::string login_body(const std::string& user, const std::string& password) {
  return R"({"username":)" + json_str(user) + R"(,"password":)" + json_str(password) + "}";
}

TEST(EdgeE2E, HostMustNameThisServer) {
  TestServer server;
  server.start();
  const std::string port = std::to_string(server.port());
  HttpClient client = server.client();
  // DNS rebinding: evil.example resolves to 127.0.0.1, and its page sends its own Origin.
  const Response rebound = client.post("/api/v1/session", login_body("admin", kAdminPassword),
                                       {{"Host", "evil.example:" + port}, {"Origin", "http://evil.example:" + port}});
  EXPECT_EQ(rebound.status, 421) << describe(rebound);
  EXPECT_EQ(rebound.error_code(), "misdirected_request");
  EXPECT_TRUE(rebound.header("set-cookie").empty());
  EXPECT_EQ(client.get("/healthz", {{"Host", "evil.example"}}).status, 421);
  EXPECT_EQ(client.get("/no-such-page", {{"Host", "evil.example"}}).status, 421) << "not even a 404";

  // IP literals and localhost pass, with or without a port.
  for (const std::string& host : std::vector<std::string>{"127.0.0.1", "127.0.0.1:" + port, "[::1]:" + port,
                                                          "localhost", "LOCALHOST:" + port, "192.0.2.1"}) {
    EXPECT_EQ(client.get("/healthz", {{"Host", host}}).status, 200) << host;
  }
  const Response local = client.post("/api/v1/session", login_body("admin", kAdminPassword),
                                     {{"Host", "localhost:" + port}, {"Origin", "http://localhost:" + port}});
  EXPECT_EQ(local.status, 200) << describe(local);

  // Missing, repeated or malformed: 400.
  for (const char* raw :
       {"GET /healthz HTTP/1.1\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.1\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost:\r\n\r\n", "GET /healthz HTTP/1.1\r\nHost: a@127.0.0.1\r\n\r\n"}) {
    const std::string got = exchange(server.port(), raw);
    EXPECT_EQ(status_of(got), 400) << raw << " => " << got;
    EXPECT_NE(got.find("\"invalid_field\""), std::string::npos) << got;
  }
}

TEST(EdgeE2E, PublicUrlSetsTheOriginAndAHostPrefixedSecureCookie) {
  TestServer server;
  server.start(
      {.extra_args = {"--public-url", "https://Tokens.Example.com", "--public-url", "http://tl.internal:8080"}});
  const std::string port = std::to_string(server.port());
  HttpClient browser = server.client();
  const Headers page = {{"Host", "tokens.example.com"}, {"Origin", "https://tokens.example.com"}};
  const Response signed_in = browser.post("/api/v1/session", login_body("admin", kAdminPassword), page);
  ASSERT_EQ(signed_in.status, 200) << describe(signed_in);
  const std::string cookie = signed_in.header("set-cookie");
  EXPECT_TRUE(cookie.starts_with("__Host-tl_session=")) << cookie;
  EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; Path=/"), std::string::npos) << cookie;
  EXPECT_EQ(cookie.find("Domain"), std::string::npos) << cookie;
  ASSERT_FALSE(browser.cookie("__Host-tl_session").empty());
  EXPECT_EQ(browser.get("/api/v1/me", page).status, 200);
  // The cookie name in use is the only one read.
  HttpClient plain = server.client();
  plain.set_cookie("tl_session", browser.cookie("__Host-tl_session"));
  EXPECT_EQ(plain.get("/api/v1/me").status, 401);

  // A page of the public origin may write; of another, not; the IP origin still may.
  EXPECT_EQ(browser.post("/api/v1/users", R"({"username":"x"})", page).status, 400) << "past the CSRF check";
  EXPECT_EQ(browser
                .post("/api/v1/users", R"({"username":"x"})",
                      {{"Host", "tokens.example.com"}, {"Origin", "https://evil.example"}})
                .error_code(),
            "csrf");
  // Host names a public host, but its own http:// origin is not the page's (https://).
  EXPECT_EQ(browser
                .post("/api/v1/users", R"({"username":"x"})",
                      {{"Host", "tokens.example.com"}, {"Origin", "http://tokens.example.com"}})
                .error_code(),
            "csrf");
  EXPECT_EQ(browser.post("/api/v1/users", R"({"username":"x"})", {{"Origin", "http://127.0.0.1:" + port}}).status, 400);
  EXPECT_EQ(browser
                .post("/api/v1/users", R"({"username":"x"})",
                      {{"Host", "tl.internal:8080"}, {"Origin", "http://tl.internal:8080"}})
                .status,
            400);
  // Public hosts with their port or none; another port or name is misdirected.
  EXPECT_EQ(browser.get("/healthz", {{"Host", "tokens.example.com:443"}}).status, 200);
  EXPECT_EQ(browser.get("/healthz", {{"Host", "tokens.example.com:8443"}}).status, 421);
  EXPECT_EQ(browser.get("/healthz", {{"Host", "tl.internal"}}).status, 200);
  EXPECT_EQ(browser.get("/healthz", {{"Host", "other.example.com"}}).status, 421);

  // A malformed --public-url stops the start, naming the option.
  TestServer bad;
  try {
    bad.start({.extra_args = {"--public-url", "tokens.example.com"}});
    ADD_FAILURE() << "started with a public URL without a scheme";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("--public-url"), std::string::npos) << e.what();
  }
}

// The event of `type` whose token_id is `id` (the newest).
Json event_of(HttpClient& auditor, const std::string& type, const std::string& id) {
  const Response res = auditor.get("/api/v1/audit?type=" + type + "&token_id=" + id);
  if (res.status != 200) throw std::runtime_error(describe(res));
  const Json events = res.json()["events"];
  if (events.size() == 0) throw std::runtime_error("no " + type + " for " + id);
  return events[events.size() - 1];
}

bool is_server_id(const std::string& id) {
  return id.size() == 16 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

class EdgeServerE2E : public ServerTest {};

TEST_F(EdgeServerE2E, TheServerAlwaysMakesTheRequestIdAndKeepsTheClientsApart) {
  HttpClient alice = login(server, "alice");
  const std::string id = create_token(alice, "ids")["id"].str();
  const std::string given = "client/42: \"x\"~";  // printable ASCII (space included), beyond the old [A-Za-z0-9._-]
  const Response revealed = alice.post("/api/v1/tokens/" + id + "/reveal", {}, {{"X-Request-Id", given}});
  ASSERT_EQ(revealed.status, 200) << describe(revealed);
  EXPECT_EQ(revealed.header("x-request-id"), given) << "echoed for the client's correlation";
  const std::string own = revealed.header("tokenledger-request-id");
  EXPECT_TRUE(is_server_id(own)) << own;
  const Json event = event_of(alice, "TokenRevealed", id);
  EXPECT_EQ(event["source"]["request_id"].str(), own);
  EXPECT_EQ(event["source"]["client_request_id"].str(), given);
  EXPECT_FALSE(event["source"].has("peer")) << "no proxy: the peer is the ip";

  // Unusable ids are dropped: too long, a tab (a control character), a non-ASCII byte, given twice.
  const std::vector<Headers> dropped = {
      {{"X-Request-Id", std::string(129, 'a')}}, {{"X-Request-Id", "two\twords"}}, {{"X-Request-Id", "caf\xc3\xa9"}}};
  for (const Headers& headers : dropped) {
    // A new description each time, so that each PATCH records an event.
    const std::string description = "renamed " + std::to_string(&headers - dropped.data());
    const Response res = alice.patch("/api/v1/tokens/" + id, R"({"description":")" + description + "\"}", headers);
    ASSERT_EQ(res.status, 200) << describe(res);
    const std::string server_id = res.header("tokenledger-request-id");
    EXPECT_TRUE(is_server_id(server_id)) << server_id;
    EXPECT_EQ(res.header("x-request-id"), server_id);
    const Json changed = event_of(alice, "TokenDescriptionChanged", id);
    EXPECT_EQ(changed["source"]["request_id"].str(), server_id);
    EXPECT_FALSE(changed["source"].has("client_request_id")) << headers[0].second;
  }
  const std::string twice =
      exchange(server.port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: a\r\nX-Request-Id: b\r\n\r\n");
  EXPECT_TRUE(is_server_id(header_of(twice, "x-request-id"))) << twice;

  // The CSV export has the column, after the existing ones.
  const Response csv = alice.get("/api/v1/audit/export?format=csv&type=TokenRevealed");
  ASSERT_EQ(csv.status, 200) << describe(csv);
  EXPECT_TRUE(
      csv.body.starts_with("seq,at,type,stream,version,actor,via,ip,user_agent,request_id,token_id,owner,hash,"
                           "client_request_id,peer,"))
      << csv.body;
  EXPECT_NE(csv.body.find("," + own + ","), std::string::npos) << csv.body;
  EXPECT_NE(csv.body.find(",\"client/42: \"\"x\"\"~\","), std::string::npos) << csv.body;
}

// A token creation over a raw connection from `source`, with `extra` headers; returns the
// token's id.
std::string create_from(const TestServer& server, const std::string& session, const char* source,
                        const std::string& extra) {
  const std::string body = token_body("via proxy", 3);
  const std::string got =
      exchange(server.port(),
               "POST /api/v1/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: tl_session=" + session +
                   "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
                   extra + "\r\n" + body,
               source);
  if (status_of(got) != 201) throw std::runtime_error("create from " + std::string(source) + ": " + got);
  return Json::parse(got.substr(got.find("\r\n\r\n") + 4))["id"].str();
}

TEST(EdgeE2E, OnlyATrustedProxyForwardsTheClientAddress) {
  TestServer server;
  server.start({.extra_args = {"--trusted-proxy", "127.0.0.1/32", "--trusted-proxy", "::1"}});
  HttpClient admin = login(server, "admin");
  create_user(admin, "alice", {"api-tokens", "auditors"});
  HttpClient alice = login(server, "alice");
  const std::string session = alice.cookie("tl_session");

  // From the trusted proxy: the right-most untrusted address it forwards, and the peer.
  std::string id = create_from(server, session, "127.0.0.1", "X-Forwarded-For: 203.0.113.9, 198.51.100.7\r\n");
  Json source = event_of(alice, "TokenCreated", id)["source"];
  EXPECT_EQ(source["ip"].str(), "198.51.100.7");
  EXPECT_EQ(source["peer"].str(), "127.0.0.1");
  id = create_from(server, session, "127.0.0.1", "Forwarded: for=\"[2001:db8::7]:4711\";proto=https\r\n");
  source = event_of(alice, "TokenCreated", id)["source"];
  EXPECT_EQ(source["ip"].str(), "2001:db8::7");
  EXPECT_EQ(source["peer"].str(), "127.0.0.1");
  // Malformed: the peer.
  id = create_from(server, session, "127.0.0.1", "X-Forwarded-For: 198.51.100.7, garbage\r\n");
  source = event_of(alice, "TokenCreated", id)["source"];
  EXPECT_EQ(source["ip"].str(), "127.0.0.1");
  EXPECT_FALSE(source.has("peer"));

  // From an untrusted peer the headers are ignored.
  id = create_from(server, session, "127.0.0.2", "X-Forwarded-For: 198.51.100.7\r\nForwarded: for=198.51.100.8\r\n");
  source = event_of(alice, "TokenCreated", id)["source"];
  EXPECT_EQ(source["ip"].str(), "127.0.0.2");
  EXPECT_FALSE(source.has("peer"));

  // A malformed range stops the start, naming the option.
  TestServer bad;
  try {
    bad.start({.extra_args = {"--trusted-proxy", "10.0.0.0/33"}});
    ADD_FAILURE() << "started with a bad --trusted-proxy";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("--trusted-proxy"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace e2e
