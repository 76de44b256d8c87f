// End to end: HTTP abuse on loopback. Slow half-open connections (slowloris) do not starve
// normal clients and are cut off by the request-head deadline; the connection limit answers 503;
// oversized heads, bodies and chunked bodies are refused early; a long pipeline is answered in
// order. Counts and times are bounded (the longest test takes about 13 s).
#include <thread>

#include "raw_client.hpp"
#include "test_server.hpp"

namespace e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

using Raw = RawClient;

int status_of(const std::string& response) {
  if (response.size() < 12 || !response.starts_with("HTTP/1.1 ")) return 0;
  return std::stoi(response.substr(9, 3));
}

const std::string kHealth = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

class AbuseE2E : public ::testing::Test {
 protected:
  TestServer server;
};

// 200 connections each send a header byte a second; normal requests meanwhile answer at once,
// and the slow ones are cut off by the 10 s head deadline, while a kept-alive idle connection
// is not (its idle timeout is longer).
TEST_F(AbuseE2E, SlowlorisDoesNotStarveNormalClientsAndIsCutOff) {
  server.start();
  Raw keep_alive(server.port());
  ASSERT_EQ(status_of((keep_alive.send(kHealth), keep_alive.response())), 200);

  constexpr int kSlow = 200;
  std::vector<std::unique_ptr<Raw>> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(std::make_unique<Raw>(server.port()));
    ASSERT_TRUE(slow.back()->send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  }
  const auto began = Clock::now();
  int cut_off = 0;
  std::vector<double> normal_ms;
  for (int second = 0; second < 13 && cut_off < kSlow; ++second) {
    for (auto& conn : slow) {
      if (conn && !conn->send("X: y\r\n")) conn.reset(), ++cut_off;
    }
    const auto asked = Clock::now();
    HttpClient normal = server.client();
    const Response res = normal.get("/healthz");
    normal_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - asked).count());
    EXPECT_EQ(res.status, 200) << describe(res);
    std::this_thread::sleep_for(1s - (Clock::now() - asked));
  }
  for (auto& conn : slow) {
    if (conn && conn->closed_by_peer(100ms)) conn.reset(), ++cut_off;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - began).count();
  EXPECT_EQ(cut_off, kSlow) << "slow connections still open after " << elapsed << " s";
  EXPECT_GE(elapsed, 9.0) << "the head deadline is 10 s, not shorter";
  for (double ms : normal_ms) EXPECT_LT(ms, 1000.0) << "a normal request waited behind the slow ones";

  // Idle for longer than the head deadline, the kept-alive connection still serves.
  ASSERT_TRUE(keep_alive.send(kHealth));
  EXPECT_EQ(status_of(keep_alive.response()), 200);
  std::cout << "slowloris: " << kSlow << " connections cut off within " << elapsed << " s; " << normal_ms.size()
            << " normal requests, slowest " << *std::max_element(normal_ms.begin(), normal_ms.end()) << " ms\n";
}

TEST_F(AbuseE2E, ConnectionLimitAnswers503ThenRecovers) {
  // The global limit alone: one address may hold all of it here (LimitsE2E tests the share).
  server.start({.extra_args = {"--max-connections", "8", "--max-connections-per-ip", "8"}});
  std::vector<std::unique_ptr<Raw>> held;
  for (int i = 0; i < 8; ++i) held.push_back(std::make_unique<Raw>(server.port()));
  std::this_thread::sleep_for(300ms);  // let the server accept them
  for (int i = 0; i < 5; ++i) {
    Raw extra(server.port());
    extra.send(kHealth);
    const std::string res = extra.response();
    EXPECT_EQ(status_of(res), 503) << res;
    EXPECT_NE(res.find("\"unavailable\""), std::string::npos) << res;
  }
  // Held connections still work, and closing some makes room again.
  ASSERT_TRUE(held[0]->send(kHealth));
  EXPECT_EQ(status_of(held[0]->response()), 200);
  held.resize(5);
  std::this_thread::sleep_for(300ms);
  Raw again(server.port());
  again.send(kHealth);
  EXPECT_EQ(status_of(again.response()), 200);
  EXPECT_NE(server.log().find("connection refused ip=127.0.0.1: Too many connections"), std::string::npos);
}

TEST_F(AbuseE2E, OversizedHeadIsRefusedWith431) {
  server.start();
  Raw conn(server.port());
  const std::string big(20 * 1024, 'a');
  conn.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + big + "\r\n\r\n");
  const std::string res = conn.response();
  EXPECT_EQ(status_of(res), 431) << res.substr(0, 300);
  EXPECT_TRUE(conn.closed_by_peer(3000ms));
  // A request line alone longer than the limit, too.
  Raw line(server.port());
  line.send("GET /" + std::string(40 * 1024, 'x') + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(status_of(line.response()), 431);
}

TEST_F(AbuseE2E, OversizedBodyIsRefusedBeforeItIsSent) {
  server.start({.extra_args = {"--body-limit", "4096"}});
  Raw conn(server.port());
  // Only the head: the declared length alone is refused, without waiting for the body.
  conn.send(
      "POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: 10000000\r\n\r\n");
  const auto asked = Clock::now();
  const std::string res = conn.response(3000ms);
  EXPECT_EQ(status_of(res), 413) << res;
  EXPECT_LT(Clock::now() - asked, 2s);
  EXPECT_NE(res.find("body_too_large"), std::string::npos) << res;
  // Same with Expect: 100-continue: no "100 Continue" is sent for it.
  Raw expecting(server.port());
  expecting.send(
      "POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Expect: 100-continue\r\nContent-Length: 10000000\r\n\r\n");
  EXPECT_EQ(status_of(expecting.response(3000ms)), 413);
}

TEST_F(AbuseE2E, OversizedChunkedBodyIsRefusedEarly) {
  server.start({.extra_args = {"--body-limit", "4096"}});
  Raw conn(server.port());
  conn.send(
      "POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n");
  const std::string chunk = "400\r\n" + std::string(1024, ' ') + "\r\n";
  std::size_t sent = 0;
  std::string res;
  for (int i = 0; i < 1000 && res.empty(); ++i) {  // up to 1 MB, stopping at the answer
    if (!conn.send(chunk)) break;
    sent += 1024;
    res = conn.read_some(5ms);
  }
  if (res.empty()) res = conn.response(3000ms);
  EXPECT_EQ(status_of(res), 413) << res;
  EXPECT_LE(sent, 64u * 1024) << "refused only after " << sent << " bytes";
  // One chunk declaring more than the limit is refused at its size line.
  Raw big(server.port());
  big.send(
      "POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\nFFFFFFF\r\n");
  EXPECT_EQ(status_of(big.response(3000ms)), 413);
}

TEST_F(AbuseE2E, MalformedFramingIsRefusedWith400) {
  server.start();
  const std::vector<std::string> bad = {
      "POST /api/v1/session HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n",
      "POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
      "POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Name: y\r\n\r\n",
      "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
  };
  for (const std::string& raw : bad) {
    Raw conn(server.port());
    conn.send(raw);
    const std::string res = conn.response(3000ms);
    EXPECT_EQ(status_of(res), 400) << raw << "\n=> " << res;
  }
  HttpClient client = server.client();
  EXPECT_EQ(client.get("/healthz").status, 200);
}

TEST_F(AbuseE2E, LongPipelineIsAnsweredInOrder) {
  server.start();
  constexpr int kCount = 100;
  std::string raw;
  for (int i = 0; i < kCount; ++i) {
    const char* path = i % 3 == 0 ? "/healthz" : i % 3 == 1 ? "/nope" : "/api/v1/me";
    raw += std::string("GET ") + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: r" + std::to_string(i) +
           (i == kCount - 1 ? "\r\nConnection: close" : "") + "\r\n\r\n";
  }
  const std::vector<Response> responses = server.client().raw_exchange(raw, kCount);
  ASSERT_EQ(responses.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(responses[i].header("X-Request-Id"), "r" + std::to_string(i));
    EXPECT_EQ(responses[i].status, i % 3 == 0 ? 200 : i % 3 == 1 ? 404 : 401) << i;
  }
}

}  // namespace
}  // namespace e2e
