// End to end (issue 16): GET /api/v1/audit/verify answers from the newest full check of this
// process plus a walk of the records after it ("scrub": "pending" before one completed);
// ?full=true walks everything now, one such walk at a time; as_of lists at an event's exact time.
#include <atomic>
#include <latch>
#include <set>
#include <thread>
#include <vector>

#include "test_server.hpp"

namespace e2e {
namespace {

class VerifyE2E : public ::testing::Test {
 protected:
  // No background scrub and no full check before serving: verify stays "pending" until asked
  // for a full walk.
  void start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--scrub-hours", "0", "--start-full-check-limit", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    server.start({.extra_args = args});
    admin.emplace(login(server, "admin"));
    create_user(*admin, "alice", {"api-tokens", "auditors"});
    alice.emplace(login(server, "alice"));
  }
  Json verify(const std::string& query = "") {
    const Response res = alice->get("/api/v1/audit/verify" + query);
    if (res.status != 200) throw std::runtime_error("verify" + query + ": " + describe(res));
    return res.json();
  }

  TestServer server;
  std::optional<HttpClient> admin, alice;
};

TEST_F(VerifyE2E, VerifyIsPendingUntilAFullCheckThenWalksOnlyTheRecordsAfterIt) {
  start();
  const Json pending = verify();
  EXPECT_TRUE(pending["ok"].boolean()) << pending["problem"].str();
  ASSERT_TRUE(pending["scrub"].is_string());
  EXPECT_EQ(pending["scrub"].str(), "pending");
  EXPECT_EQ(pending["events"].integer(), pending["head"]["seq"].integer());
  EXPECT_FALSE(pending["indexes"]["checked"].boolean()) << "the indexes before the start are not checked yet";

  const Json full = verify("?full=true");
  EXPECT_TRUE(full["ok"].boolean());
  const std::int64_t walked_head = full["head"]["seq"].integer();
  EXPECT_EQ(full["events"].integer(), walked_head);
  EXPECT_EQ(full["scrub"]["source"].str(), "request");
  EXPECT_EQ(full["scrub"]["head_seq"].integer(), walked_head);
  EXPECT_EQ(full["walked"]["from_seq"].integer(), 1);
  EXPECT_TRUE(full["indexes"]["checked"].boolean());

  const std::string id = create_token(*alice, "after the full walk", 5)["id"].str();
  reveal(*alice, id);
  const Json after = verify();
  EXPECT_TRUE(after["ok"].boolean()) << after["problem"].str();
  ASSERT_TRUE(after["scrub"].is_object()) << "a completed full check is the basis now";
  EXPECT_EQ(after["scrub"]["head_seq"].integer(), walked_head);
  EXPECT_TRUE(after["scrub"]["ok"].boolean());
  EXPECT_GT(unix_ms(after["scrub"]["completed_at"].str()), 0);
  EXPECT_EQ(after["walked"]["from_seq"].integer(), walked_head + 1);
  EXPECT_EQ(after["walked"]["events"].integer(), after["head"]["seq"].integer() - walked_head);
  EXPECT_GE(after["walked"]["events"].integer(), 2);
  EXPECT_EQ(after["events"].integer(), after["head"]["seq"].integer());
  EXPECT_TRUE(after["indexes"]["checked"].boolean());
  EXPECT_EQ(after["head"]["hash"].str(), verify("?full=true")["head"]["hash"].str()) << "the same head either way";
  // An answer that passed moves the basis on: the next walks only what came after it.
  const std::int64_t answered_head = verify()["head"]["seq"].integer();
  create_token(*alice, "one more", 5);
  const Json next = verify();
  EXPECT_EQ(next["walked"]["from_seq"].integer(), answered_head + 1);
  EXPECT_EQ(next["events"].integer(), next["head"]["seq"].integer());
}

TEST_F(VerifyE2E, OnlyFullTrueOrFalseIsAcceptedAndOtherParametersAreRefused) {
  start();
  for (const std::string query : {"?full=yes", "?full=1", "?full", "?full=true&full=true", "?fulll=true"}) {
    const Response res = alice->get("/api/v1/audit/verify" + query);
    EXPECT_EQ(res.status, 400) << query << ": " << describe(res);
  }
  const Response unknown = alice->get("/api/v1/audit/verify?fulll=true");
  EXPECT_NE(unknown.json()["error"]["message"].str().find("full"), std::string::npos) << unknown.body;
  EXPECT_EQ(verify("?full=false")["scrub"].str(), "pending") << "full=false is the default answer";
  EXPECT_EQ(login(server, "admin").get("/api/v1/audit/verify?full=true").status, 403) << "auditors only";
}

TEST_F(VerifyE2E, ASecondFullWalkWhileOneRunsIsRefusedWithRetryAfter) {
  start({"--reveal-rate", "0"});
  // Enough records that a full walk takes a while: reveals from several clients at once. (Few
  // sign-ins: the throttle allows 20 from one address in 5 minutes.)
  constexpr int kClients = 6;
  std::vector<HttpClient> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(login(server, "alice"));
  std::vector<std::thread> writers;
  for (auto& c : clients) {
    const std::string id = create_token(c, "walked", 5)["id"].str();  // one each: no version conflicts
    writers.emplace_back([&c, id] {
      for (int i = 0; i < 500; ++i) reveal(c, id);
    });
  }
  for (auto& w : writers) w.join();

  // Several full walks asked for at the same moment: one runs, the others are told to come back.
  int refused = 0, answered = 0;
  for (int round = 0; round < 5 && refused == 0; ++round) {
    std::vector<Response> answers(kClients);
    std::latch go(kClients);
    std::vector<std::thread> askers;
    for (int i = 0; i < kClients; ++i) {
      askers.emplace_back([&, i] {
        go.arrive_and_wait();
        answers[static_cast<std::size_t>(i)] =
            clients[static_cast<std::size_t>(i)].get("/api/v1/audit/verify?full=true");
      });
    }
    for (auto& a : askers) a.join();
    for (const Response& res : answers) {
      if (res.status == 429) {
        ++refused;
        EXPECT_EQ(res.error_code(), "rate_limited") << describe(res);
        EXPECT_GE(std::stoi(res.header("retry-after")), 1) << describe(res);
      } else {
        ASSERT_EQ(res.status, 200) << describe(res);
        EXPECT_TRUE(res.json()["ok"].boolean());
        ++answered;
      }
    }
  }
  EXPECT_GT(refused, 0) << "no full walk was ever refused while another ran";
  EXPECT_GT(answered, 0);
  // The refusal does not stick: once the walks ended, one is answered again.
  EXPECT_TRUE(verify("?full=true")["ok"].boolean());
}

TEST_F(ServerTest, TheBackgroundScrubBecomesTheBasisOfVerify) {
  HttpClient alice = login(server, "alice");
  Json answer;
  for (int i = 0; i < 200; ++i) {
    answer = alice.get("/api/v1/audit/verify").json();
    if (answer["scrub"].is_object()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(answer["scrub"].is_object()) << "the scrub at start never completed: " << server.log();
  EXPECT_EQ(answer["scrub"]["source"].str(), "scrub");
  EXPECT_TRUE(answer["scrub"]["ok"].boolean());
  EXPECT_TRUE(answer["ok"].boolean());
  // From where the scrub ended, or from further on when an answer meanwhile walked further.
  EXPECT_GE(answer["walked"]["from_seq"].integer(), answer["scrub"]["head_seq"].integer() + 1);
  EXPECT_LE(answer["walked"]["from_seq"].integer(), answer["head"]["seq"].integer() + 1);
  EXPECT_EQ(answer["events"].integer(), answer["head"]["seq"].integer());
}

// Verify while a live server appends: an audit index entry or snapshot newer than the head the
// check read a moment before is a record that landed meanwhile, not a cut. (The access events made
// this show: a verify racing a sign-in reported "past the log's head" and refused every write.)
TEST_F(ServerTest, VerifyWhileWritesLandFindsNoDamage) {
  HttpClient alice = login(server, "alice");
  const std::string id = create_token(alice, "shown often", 15)["id"].str();
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      HttpClient writer = login(server, w == 0 ? "carol" : "alice");
      const std::string mine = w == 0 ? create_token(writer, "carol's", 15)["id"].str() : id;
      for (int i = 0; i < 400 && !stop; ++i) writer.post("/api/v1/tokens/" + mine + "/reveal");
    });
  }
  int verified = 0;
  for (int i = 0; i < 300; ++i, ++verified) {
    const Response res = alice.get("/api/v1/audit/verify");
    ASSERT_EQ(res.status, 200) << describe(res);
    if (!res.json()["ok"].boolean()) {
      stop = true;
      for (auto& t : writers) t.join();
      FAIL() << "verify " << i << " reported damage while writes landed: " << res.body;
    }
  }
  stop = true;
  for (auto& t : writers) t.join();
  EXPECT_EQ(verified, 300);
  EXPECT_EQ(server.client().get("/readyz").status, 200) << "writes go on";
  EXPECT_EQ(create_token(alice, "after", 15)["version"].integer(), 1);
}

// as_of is a point in time: a record at exactly that time is in; a millisecond before, it is not.
TEST_F(ServerTest, AsOfAtAnEventsExactTimeIncludesItAndAMillisecondBeforeDoesNot) {
  HttpClient alice = login(server, "alice");
  HttpClient carol = login(server, "carol");
  const std::string first = create_token(carol, "first", 30)["id"].str();
  const std::string second = create_token(carol, "second", 30)["id"].str();
  ASSERT_EQ(carol
                .patch("/api/v1/tokens/" + first, R"({"description":"first, edited"})",
                       {{"Content-Type", "application/json"}})
                .status,
            200);
  ASSERT_EQ(carol.del("/api/v1/tokens/" + second).status, 204);
  const Json all = alice.get("/api/v1/audit?actor=carol&limit=1000").json();
  std::vector<std::string> times;  // of carol's four token events
  for (const auto& e : all["events"].items()) {
    if (e["type"].str().starts_with("Token")) times.push_back(e["at"].str());
  }
  ASSERT_EQ(times.size(), 4u) << all["events"].size();
  auto at = [&](std::size_t i) { return times[i]; };
  auto before = [](const std::string& t) {  // a millisecond earlier, as RFC 3339 with an offset
    const std::int64_t ms = unix_ms(t) - 1;
    const std::time_t secs = ms / 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[96];  // room for any int the compiler cannot rule out
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(ms % 1000));
    return std::string(buf);
  };
  auto listed = [&](const std::string& moment) {
    const Response res = alice.get("/api/v1/tokens?owner=carol&as_of=" + moment);
    if (res.status != 200) throw std::runtime_error(describe(res));
    std::vector<std::string> out;
    const Json body = res.json();
    for (const auto& t : body["tokens"].items()) out.push_back(t["id"].str() + "=" + t["description"].str());
    return out;
  };
  if (at(0) != at(1)) {
    EXPECT_TRUE(listed(before(at(0))).empty());
    EXPECT_EQ(listed(at(0)), (std::vector<std::string>{first + "=first"}));
  }
  if (at(1) != at(2)) {
    EXPECT_EQ(listed(at(1)), (std::vector<std::string>{second + "=second", first + "=first"}));
  }
  if (at(2) != at(3)) {
    EXPECT_EQ(listed(at(2)), (std::vector<std::string>{second + "=second", first + "=first, edited"}));
  }
  EXPECT_EQ(listed(at(3)), (std::vector<std::string>{first + "=first, edited"}));
  // A millisecond before the delete both tokens are live, but only those created by then (the
  // events can share a millisecond).
  const std::int64_t just_before = unix_ms(at(3)) - 1;
  const std::size_t created_by_then =
      (unix_ms(at(0)) <= just_before ? 1u : 0u) + (unix_ms(at(1)) <= just_before ? 1u : 0u);
  EXPECT_EQ(listed(before(at(3))).size(), created_by_then);
  // The owner is a user name: compared case-folded, as everywhere ("CAROL" is carol).
  const Response folded = alice.get("/api/v1/tokens?owner=CAROL&as_of=" + at(3));
  ASSERT_EQ(folded.status, 200) << describe(folded);
  EXPECT_EQ(folded.json()["owner"].str(), "carol");
  ASSERT_EQ(folded.json()["tokens"].size(), 1u) << folded.body;
  EXPECT_EQ(folded.json()["tokens"][0]["id"].str(), first);
  // Another user's records do not show, whenever they were written.
  create_token(alice, "alice's", 30);
  EXPECT_EQ(listed(at(3)), (std::vector<std::string>{first + "=first, edited"}));
}

}  // namespace
}  // namespace e2e
