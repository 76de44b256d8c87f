// End to end (issue 12, cases 6 and 9): /metrics has bounded labels and needs a credential
// (--metrics-secret-file) or an address of its own (--metrics-listen); one client address
// cannot take every connection (--max-connections-per-ip); reveals are limited per user
// (--reveal-rate), refused ones appending nothing.
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "raw_client.hpp"
#include "test_server.hpp"

namespace e2e {
namespace {

namespace fs = std::filesystem;

std::string healthz_from(const char* source, unsigned short port) {
  const int fd = connect_raw(port, source);
  if (fd < 0) return "(no connection)";
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string answer = read_until_closed(fd, std::chrono::seconds(5));
  ::close(fd);
  return answer;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// A method name no server knows, unique per i, `size` bytes of token characters.
std::string strange_method(int i, std::size_t size) {
  std::string name = "X" + std::to_string(i) + "Y";
  name.resize(size, 'Q');
  return name;
}

TEST(LimitsE2E, UnknownMethodsShareOneOtherSeriesAndMetricsStaySmall) {
  TestServer server;
  server.start({.extra_args = metrics_secret_args(server)});
  HttpClient client = server.client();
  ASSERT_EQ(client.get("/healthz").status, 200);
  const std::string host = "Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n";
  constexpr int kRequests = 2000, kPerConnection = 100;
  for (int first = 0; first < kRequests; first += kPerConnection) {
    std::string raw;
    for (int i = first; i < first + kPerConnection; ++i) {
      raw += strange_method(i, 4096) + (i % 2 == 0 ? " /healthz" : " /no/such/route") + " HTTP/1.1\r\n" + host + "\r\n";
    }
    const auto answers = client.raw_exchange(raw, kPerConnection);
    ASSERT_EQ(answers.size(), static_cast<std::size_t>(kPerConnection));
    EXPECT_EQ(answers.front().status, 405);
    EXPECT_EQ(answers.back().status, 404);
  }
  const Response metrics = client.get("/metrics", metrics_auth());
  ASSERT_EQ(metrics.status, 200) << describe(metrics);
  EXPECT_LT(metrics.body.size(), 64u * 1024) << "the label set grew with what clients sent";
  EXPECT_EQ(metrics.body.find("QQQQ"), std::string::npos) << "a client's method became a label";
  EXPECT_NE(metrics.body.find(R"(tokenledger_http_requests_total{method="other",route="other",status="405"} 1000)"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(R"(tokenledger_http_requests_total{method="other",route="other",status="404"} 1000)"),
            std::string::npos)
      << metrics.body;
  EXPECT_EQ(count_of(metrics.body, R"(method="other")"), 2u) << metrics.body;
  EXPECT_NE(metrics.body.find(R"(method="GET",route="/healthz")"), std::string::npos) << "known ones keep their name";
}

TEST(LimitsE2E, MetricsWithoutAnyOptionAnswer401NamingTheOptions) {
  TestServer server;
  server.start();
  const Response res = server.client().get("/metrics");
  EXPECT_EQ(res.status, 401) << describe(res);
  EXPECT_EQ(res.error_code(), "unauthenticated");
  EXPECT_NE(res.body.find("--metrics-secret-file"), std::string::npos) << res.body;
  EXPECT_NE(res.body.find("--metrics-listen"), std::string::npos) << res.body;
  EXPECT_EQ(res.body.find("tokenledger_tokens_live"), std::string::npos);
}

TEST(LimitsE2E, MetricsAreServedOnlyToTheBearerOfTheSecret) {
  TestServer server;
  server.start({.extra_args = metrics_secret_args(server)});
  HttpClient admin = login(server, "admin", kAdminPassword);
  create_user(admin, "alice", {"api-tokens"});
  HttpClient alice = login(server, "alice");
  const std::string code = reveal(alice, create_token(alice, "not a metrics key")["id"].str());

  HttpClient anon = server.client();
  const Response none = anon.get("/metrics");
  EXPECT_EQ(none.status, 401) << describe(none);
  EXPECT_EQ(none.header("WWW-Authenticate"), R"(Bearer realm="tokenledger-metrics")");
  EXPECT_EQ(admin.get("/metrics").status, 401) << "a session, even an admin's, is not the metrics secret";
  EXPECT_EQ(anon.get("/metrics", {{"Authorization", "Bearer " + code}}).status, 401) << "an API token is not either";
  EXPECT_EQ(anon.get("/metrics", {{"Authorization", std::string("Bearer ") + kMetricsSecret + "x"}}).status, 401);
  EXPECT_EQ(anon.get("/metrics", {{"Authorization", std::string("Basic ") + kMetricsSecret}}).status, 401);
  const Response ok = anon.get("/metrics", metrics_auth());
  ASSERT_EQ(ok.status, 200) << describe(ok);
  EXPECT_NE(ok.body.find("tokenledger_tokens_live 1"), std::string::npos) << ok.body;
  EXPECT_EQ(ok.body.find("alice"), std::string::npos) << "no per-user data";
  EXPECT_EQ(anon.get("/metrics", {{"Authorization", std::string("bearer ") + kMetricsSecret}}).status, 200)
      << "the scheme is case-insensitive (RFC 9110 §11.1)";
}

TEST(LimitsE2E, MetricsSecretFileIsRefusedWhenOthersMayReadItOrItIsShort) {
  TestServer server;
  const std::string path = server.root_dir() + "/metrics.secret";
  auto write = [&](const std::string& text, fs::perms perms) {
    std::ofstream(path, std::ios::trunc) << text;
    fs::permissions(path, perms, fs::perm_options::replace);
  };
  const auto owner = fs::perms::owner_read | fs::perms::owner_write;
  write("a-long-enough-metrics-secret\n", owner | fs::perms::group_read | fs::perms::others_read);
  EXPECT_THROW(server.start({.extra_args = {"--metrics-secret-file", path}}), std::exception);
  EXPECT_NE(server.log().find("is accessible by other users (mode 0644)"), std::string::npos) << server.log();
  write("short-secret\n", owner);
  EXPECT_THROW(server.start({.extra_args = {"--metrics-secret-file", path}}), std::exception);
  EXPECT_NE(server.log().find("holds 12 bytes; a secret needs at least 16"), std::string::npos) << server.log();
}

TEST(LimitsE2E, MetricsListenServesOnlyMetricsAndHealth) {
  TestServer server;
  server.start({.extra_args = {"--metrics-listen", "127.0.0.1:0"}});
  std::smatch m;
  const std::string log = server.log();
  ASSERT_TRUE(std::regex_search(log, m, std::regex(R"(metrics on http://127\.0\.0\.1:([0-9]+)/metrics)"))) << log;
  HttpClient metrics(static_cast<unsigned short>(std::stoi(m[1].str())));
  const Response ok = metrics.get("/metrics");
  EXPECT_EQ(ok.status, 200) << describe(ok);
  EXPECT_NE(ok.body.find("# TYPE tokenledger_tokens_live gauge"), std::string::npos);
  EXPECT_EQ(metrics.get("/healthz").status, 200);
  EXPECT_EQ(metrics.get("/api/v1/me").status, 404);
  EXPECT_EQ(metrics.get("/").status, 404) << "no web UI there";
  EXPECT_EQ(metrics.post("/api/v1/session", R"({"username":"admin","password":"x"})").status, 404);
  const Response main = server.client().get("/metrics");
  EXPECT_EQ(main.status, 401) << describe(main);
  EXPECT_NE(main.body.find("--metrics-listen"), std::string::npos) << main.body;
}

TEST(LimitsE2E, OneAddressCannotTakeEveryConnection) {
  TestServer server;
  server.start({.extra_args = {"--max-connections", "16"}});
  // 16 idle connections from 127.0.0.1: once more than half are open, its share (a quarter)
  // is used up and the rest get a quick 503.
  std::vector<int> idle;
  for (int i = 0; i < 16; ++i) {
    const int fd = connect_raw(server.port(), "127.0.0.1");
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  std::size_t refused = 0;
  for (int fd : idle) {
    const std::string answer = read_until_closed(fd, std::chrono::milliseconds(300));
    if (answer.starts_with("HTTP/1.1 503")) {
      ++refused;
      EXPECT_NE(answer.find("Retry-After: 1"), std::string::npos) << answer;
      EXPECT_NE(answer.find("from your address"), std::string::npos) << answer;
    }
  }
  EXPECT_EQ(refused, 7u) << "9 kept (8 = half, then 1 more as its share of 4 was not yet full)";
  const std::string other = healthz_from("127.0.0.2", server.port());
  EXPECT_TRUE(other.starts_with("HTTP/1.1 200")) << other;
  const std::string same = healthz_from("127.0.0.1", server.port());
  EXPECT_TRUE(same.starts_with("HTTP/1.1 503")) << same;
  for (int fd : idle) ::close(fd);
  std::string again;
  for (int i = 0; i < 50 && !again.starts_with("HTTP/1.1 200"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the server notices the closes
    again = healthz_from("127.0.0.1", server.port());
  }
  EXPECT_TRUE(again.starts_with("HTTP/1.1 200")) << "the share is given back when they close: " << again;
}

TEST(LimitsE2E, RevealsBeyondTheRateAre429WithRetryAfterAndAppendNothing) {
  TestServer server;
  const std::string clock = server.root_dir() + "/clock";
  const bool faked = !faketime_library().empty();
  std::ofstream(clock, std::ios::trunc) << "+0\n";
  StartOptions options{.extra_args = {"--reveal-rate", "3"}};
  if (faked) options.fake_time_file = clock;
  server.start(options);
  HttpClient admin = login(server, "admin", kAdminPassword);
  create_user(admin, "alice", {"api-tokens", "auditors"});
  create_user(admin, "carol", {"api-tokens"});
  HttpClient alice = login(server, "alice");
  HttpClient carol = login(server, "carol");
  const std::string id = create_token(alice, "often shown")["id"].str();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(alice.post("/api/v1/tokens/" + id + "/reveal").status, 200);

  const Response refused = alice.post("/api/v1/tokens/" + id + "/reveal");
  EXPECT_EQ(refused.status, 429) << describe(refused);
  EXPECT_EQ(refused.error_code(), "rate_limited");
  const int retry = std::stoi(refused.header("Retry-After").empty() ? "0" : refused.header("Retry-After"));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 20) << "3 a minute: one more within 20 s";
  EXPECT_EQ(alice.get("/api/v1/audit?type=TokenRevealed").json()["events"].size(), 3u)
      << "a refused reveal appends nothing";
  EXPECT_EQ(reveal(carol, create_token(carol, "other user")["id"].str()).rfind("tlk_", 0), 0u) << "per user";

  if (!faked) GTEST_SKIP() << "faketime is not installed: the refill is checked in the unit test";
  std::ofstream(clock, std::ios::trunc) << "+2m\n";  // a minute refills the burst
  for (int i = 0; i < 3; ++i) EXPECT_EQ(alice.post("/api/v1/tokens/" + id + "/reveal").status, 200) << i;
  EXPECT_EQ(alice.post("/api/v1/tokens/" + id + "/reveal").status, 429);
}

}  // namespace
}  // namespace e2e
