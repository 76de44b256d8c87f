// End to end: routing errors, health, HTTP/1.1 pipelining and malformed requests, the command
// line, graceful shutdown with requests in flight, and a crash losing nothing acknowledged.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>

#include "test_server.hpp"

namespace e2e {
namespace {

using namespace std::chrono_literals;

class RobustnessE2E : public ServerTest {};

// Runs the server binary with `args` to completion; returns {exit status, output}.
std::pair<int, std::string> run_binary(const std::string& args) {
  const std::string command = std::string(TOKENLEDGER_BIN) + " " + args + " 2>&1 </dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed");
  std::string output;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST_F(RobustnessE2E, UnknownRoutesAndWrongMethods) {
  HttpClient client = server.client();
  for (const char* path : {"/nope", "/api/v1/tokenz", "/api/v1/tokens/a/b/c", "/api/v2/tokens", "/api/v1/"}) {
    const Response res = client.get(path);
    EXPECT_EQ(res.status, 404) << path << ": " << describe(res);
    EXPECT_EQ(res.error_code(), "not_found") << path;
    EXPECT_TRUE(res.header("Content-Type").starts_with("application/json")) << path;
  }
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"PUT", "/api/v1/tokens"},
                                                        {"DELETE", "/healthz"},
                                                        {"POST", "/api/v1/me"},
                                                        {"GET", "/api/v1/introspect"},
                                                        {"PUT", "/api/v1/tokens/tok_x"},
                                                        {"GET", "/api/v1/tokens/tok_x/reveal"}}) {
    const Response res = client.request(method, path);
    EXPECT_EQ(res.status, 405) << method << " " << path << ": " << describe(res);
    EXPECT_EQ(res.error_code(), "method_not_allowed");
  }
}

TEST_F(RobustnessE2E, HealthAndReadiness) {
  HttpClient client = server.client();
  const Response health = client.get("/healthz");
  EXPECT_EQ(health.status, 200) << describe(health);
  const Response ready = client.get("/readyz");
  ASSERT_EQ(ready.status, 200) << describe(ready);
  EXPECT_TRUE(ready.json()["ready"].boolean());
  EXPECT_EQ(ready.header("X-Content-Type-Options"), "nosniff");
  EXPECT_FALSE(ready.header("X-Request-Id").empty());
  // Without --metrics-secret-file or --metrics-listen /metrics is refused (e2e_limits_test.cpp).
  const Response metrics = client.get("/metrics");
  EXPECT_EQ(metrics.status, 401) << describe(metrics);
  EXPECT_EQ(metrics.body.find("# TYPE "), std::string::npos);
}

TEST_F(RobustnessE2E, PipelinedRequestsAreAnsweredInOrder) {
  const std::string host = "Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n";
  const std::string login = R"({"username":"alice","password":"wrong-pw"})";  // answered by a worker thread
  const std::string raw =
      "GET /healthz HTTP/1.1\r\n" + host + "X-Request-Id: one\r\n\r\n" + "POST /api/v1/session HTTP/1.1\r\n" + host +
      "X-Request-Id: two\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(login.size()) +
      "\r\n\r\n" + login + "GET /nope HTTP/1.1\r\n" + host + "X-Request-Id: three\r\n\r\n" +
      "POST /api/v1/introspect HTTP/1.1\r\n" + host + "X-Request-Id: four\r\nAuthorization: Bearer " +
      kIntrospectionSecret + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 13\r\n\r\n" +
      "token=garbage" + "GET /readyz HTTP/1.1\r\n" + host + "X-Request-Id: five\r\nConnection: close\r\n\r\n";
  const std::vector<Response> responses = server.client().raw_exchange(raw, 5);
  ASSERT_EQ(responses.size(), 5u);
  const std::pair<int, const char*> expected[] = {
      {200, "one"}, {401, "two"}, {404, "three"}, {200, "four"}, {200, "five"}};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(responses[i].status, expected[i].first) << i << ": " << describe(responses[i]);
    EXPECT_EQ(responses[i].header("X-Request-Id"), expected[i].second) << "response " << i << " out of order";
  }
  EXPECT_EQ(responses[3].body, R"({"active":false})");
  EXPECT_EQ(responses[4].header("Connection"), "close");
}

TEST_F(RobustnessE2E, MalformedRequestsGetAnAnswerAndTheServerCarriesOn) {
  const Response garbage = server.client().raw_exchange("THIS IS NOT HTTP\r\n\r\n", 1).at(0);
  EXPECT_EQ(garbage.status, 400) << describe(garbage);
  const std::string big_header =
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + std::string(20000, 'f') + "\r\n\r\n";
  const Response too_big = server.client().raw_exchange(big_header, 1).at(0);
  EXPECT_TRUE(too_big.status == 400 || too_big.status == 431) << describe(too_big);
  HttpClient alice = login(server, "alice");
  const Response large = alice.post("/api/v1/tokens", R"({"description":")" + std::string(64 * 1024, 'z') + "\"}");
  EXPECT_EQ(large.status, 413) << describe(large);
  EXPECT_EQ(large.error_code(), "body_too_large");
  const Response after = alice.post("/api/v1/tokens", token_body("still serving", 1));
  EXPECT_EQ(after.status, 201) << describe(after);
  EXPECT_EQ(server.client().get("/healthz").status, 200);
}

TEST_F(RobustnessE2E, CommandLine) {
  const auto [help_status, help] = run_binary("--help");
  EXPECT_EQ(help_status, 0) << help;
  for (const char* option : {"--listen", "--data", "--master-key-file", "--introspection-secret-file", "--log-level",
                             "TOKENLEDGER_ADMIN_PASSWORD", "TOKENLEDGER_INTROSPECTION_SECRET"}) {
    EXPECT_NE(help.find(option), std::string::npos) << option << " missing from --help";
  }
  const auto [bad_status, bad] = run_binary("--no-such-option");
  EXPECT_EQ(bad_status, 2) << bad;
  const auto [listen_status, listen] = run_binary("--listen nonsense --data " + server.data_dir() + "/other");
  EXPECT_NE(listen_status, 0) << listen;
}

TEST_F(RobustnessE2E, SigtermWithRequestsInFlightLosesNothingAcknowledged) {
  HttpClient alice = login(server, "alice");
  const std::string session = alice.cookie("tl_session");
  std::mutex mutex;
  std::vector<std::string> acknowledged;
  std::vector<std::string> odd_answers;
  std::atomic<int> attempts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      HttpClient c(server.port(), 15s);
      c.set_cookie("tl_session", session);
      for (int i = 0; i < 20; ++i) {  // 80 at most: under the 100 live tokens a user may hold
        try {
          ++attempts;
          const Response res =
              c.post("/api/v1/tokens", token_body("load " + std::to_string(t) + "-" + std::to_string(i), 7));
          std::lock_guard lock(mutex);
          if (res.status == 201) {
            acknowledged.push_back(res.json()["id"].str());
          } else if (res.status != 503) {
            odd_answers.push_back(describe(res));
          }
        } catch (const std::exception&) {
          return;  // the server went away: expected after SIGTERM
        }
      }
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  for (;;) {
    {
      std::lock_guard lock(mutex);
      if (acknowledged.size() >= 8) break;
    }
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(1ms);
  }
  server.signal(SIGTERM);
  const std::optional<int> status = server.wait_exit(20s);
  for (auto& t : threads) t.join();
  ASSERT_TRUE(status.has_value()) << "the server did not stop within 20 s of SIGTERM";
  EXPECT_EQ(*status, 0) << server.log();
  EXPECT_NE(server.log().find("stopped cleanly"), std::string::npos);
  EXPECT_TRUE(odd_answers.empty()) << odd_answers.front();
  ASSERT_GE(acknowledged.size(), 8u);

  server.start();
  HttpClient after = login(server, "alice");
  const Json tokens = after.get("/api/v1/tokens").json()["tokens"];
  std::set<std::string> present;
  for (const Json& t : tokens.items()) present.insert(t["id"].str());
  for (const std::string& id : acknowledged) EXPECT_EQ(present.count(id), 1u) << "acknowledged " << id << " was lost";
  EXPECT_LE(present.size(), static_cast<std::size_t>(attempts.load()));
  EXPECT_EQ(audit_event_count(after), 5 + static_cast<std::int64_t>(present.size()))
      << "the master key's check value, 4 users, one event per token";
}

TEST_F(RobustnessE2E, CrashLosesNothingAcknowledged) {
  HttpClient alice = login(server, "alice");
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(create_token(alice, "crash " + std::to_string(i), 15)["id"].str());
  const std::string code = reveal(alice, ids[2]);
  ASSERT_EQ(alice.del("/api/v1/tokens/" + ids[4]).status, 204);
  const std::string head = chain_head(alice);
  const std::int64_t events = audit_event_count(alice);
  const std::string list = alice.get("/api/v1/tokens").body;

  server.signal(SIGKILL);
  ASSERT_EQ(server.wait_exit(10s), 128 + SIGKILL);
  server.start();
  HttpClient a = login(server, "alice");
  EXPECT_EQ(chain_head(a), head);
  EXPECT_EQ(a.get("/api/v1/tokens").body, list);
  EXPECT_EQ(a.get("/readyz").status, 200);
  EXPECT_EQ(reveal(a, ids[2]), code);
  EXPECT_EQ(create_token(a, "after the crash", 15)["version"].integer(), 1);
  EXPECT_EQ(audit_event_count(a), events + 2);
  EXPECT_TRUE(introspect(server, code).json()["active"].boolean());
}

}  // namespace
}  // namespace e2e
