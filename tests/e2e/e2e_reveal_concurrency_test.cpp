// End to end: reveals answered from the appender's callback (no thread parked on the fsync)
// under concurrency. Every 200 has its durable TokenRevealed, concurrent reveals of one token
// succeed (conflicts are retried), a reveal racing a delete never lands after the
// TokenDeleted, and the batched access log still records every request, without the code.
#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "test_server.hpp"

namespace e2e {
namespace {

class RevealConcurrencyE2E : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    server.restart({.extra_args = {"--reveal-rate", "0"}});  // many reveals a second, on purpose
    sign_in_admin();
    alice.emplace(login(server, "alice"));  // api-tokens and auditors
  }
  // Another connection with alice's session, for a second thread.
  HttpClient alice_again() const {
    HttpClient c = server.client();
    c.set_cookie("tl_session", alice->cookie("tl_session"));
    return c;
  }
  // The token's events, in log order.
  std::vector<std::string> event_types(const std::string& id) {
    const Response res = alice->get("/api/v1/audit?token_id=" + id + "&limit=1000");
    if (res.status != 200) throw std::runtime_error(describe(res));
    std::vector<std::string> types;
    const Json doc = res.json();  // items() refers into it: keep it alive through the loop
    for (const Json& e : doc["events"].items()) types.push_back(e["type"].str());
    return types;
  }
  std::optional<HttpClient> alice;
};

TEST_F(RevealConcurrencyE2E, ConcurrentRevealsOfOneTokenAreRetriedAndAudited) {
  const std::string id = create_token(*alice, "contended")["id"].str();
  const std::string code = reveal(*alice, id);
  constexpr int kThreads = 8, kEach = 6;
  std::atomic<int> ok{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      HttpClient c = alice_again();
      for (int i = 0; i < kEach; ++i) {
        const Response r = c.post("/api/v1/tokens/" + id + "/reveal");
        if (r.status == 200 && r.json()["token"].str() == code) {
          ++ok;
        } else if (r.status != 409) {  // 409: lost to the others kCommandAttempts times in a row
          ++wrong;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(ok.load(), kThreads * kEach / 2) << "conflicts are retried";
  const auto types = event_types(id);
  EXPECT_EQ(std::count(types.begin(), types.end(), "TokenRevealed"), 1 + ok.load())
      << "every code shown has its TokenRevealed, and no other";
}

TEST_F(RevealConcurrencyE2E, RevealRacingDeleteNeverFollowsTheDeletion) {
  for (int round = 0; round < 3; ++round) {
    const std::string id = create_token(*alice, "raced")["id"].str();
    std::atomic<int> shown{0};
    std::atomic<bool> deleted{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        HttpClient c = alice_again();
        for (int i = 0; i < 20; ++i) {
          const Response r = c.post("/api/v1/tokens/" + id + "/reveal");
          if (r.status == 200) {
            EXPECT_TRUE(r.json()["token"].str().starts_with("tlk_"));
            ++shown;
          } else {
            EXPECT_EQ(r.status, 404) << describe(r);
            EXPECT_TRUE(deleted.load()) << "a reveal failed before the delete";
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * round));
    HttpClient d = alice_again();
    deleted = true;
    ASSERT_EQ(d.del("/api/v1/tokens/" + id).status, 204);
    for (auto& t : threads) t.join();

    const auto types = event_types(id);
    ASSERT_FALSE(types.empty());
    EXPECT_EQ(types.back(), "TokenDeleted") << "nothing is recorded after the deletion";
    EXPECT_EQ(std::count(types.begin(), types.end(), "TokenRevealed"), shown.load())
        << "every code shown has its TokenRevealed, and no other";
  }
}

TEST_F(RevealConcurrencyE2E, AccessLogRecordsEveryRequestWithoutTheCode) {
  const std::string id = create_token(*alice, "logged")["id"].str();
  const Response r = alice->post("/api/v1/tokens/" + id + "/reveal", {}, {{"X-Request-Id", "req-log-reveal-7"}});
  ASSERT_EQ(r.status, 200) << describe(r);
  const std::string code = r.json()["token"].str();
  // The log names a request by the server's own id (issue 12), sent as Tokenledger-Request-Id.
  const std::string reveal_id = r.header("tokenledger-request-id");
  std::vector<std::string> get_ids;
  for (int i = 0; i < 50; ++i) {
    const Response got = alice->get("/api/v1/tokens/" + id, {{"X-Request-Id", "req-log-get-" + std::to_string(i)}});
    ASSERT_EQ(got.status, 200);
    get_ids.push_back(got.header("tokenledger-request-id"));
  }
  ASSERT_EQ(server.stop(), 0);  // lines still held in memory are written at shutdown
  const std::string log = server.log();
  EXPECT_NE(log.find("POST /api/v1/tokens/{}/reveal 200 "), std::string::npos) << log;
  ASSERT_FALSE(reveal_id.empty());
  EXPECT_NE(log.find("id=" + reveal_id + "\n"), std::string::npos);
  for (int i = 0; i < 50; ++i) {
    EXPECT_NE(log.find("GET /api/v1/tokens/{} 200 "), std::string::npos);
    EXPECT_NE(log.find("id=" + get_ids[static_cast<std::size_t>(i)] + "\n"), std::string::npos) << i;
  }
  EXPECT_EQ(log.find(code), std::string::npos) << "the log holds a revealed code";
  EXPECT_EQ(log.find(alice->cookie("tl_session")), std::string::npos) << "the log holds a session id";
}

}  // namespace
}  // namespace e2e
