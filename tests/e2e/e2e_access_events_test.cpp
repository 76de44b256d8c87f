// End to end (issue 18 item 1): the access events in the trail. Sign-ins and failed sign-ins
// (never the typed text of a name that is no account), ended sessions, refused requests (another
// user's token and no token alike, coalesced), reads of the trail (none for verify), the server's
// start and stop; dropped and counted when the log refuses writes, while sign-in goes on.
#include <fstream>
#include <regex>

#include "test_server.hpp"

namespace e2e {
namespace {

void set_clock(const std::string& file, const std::string& offset) {
  std::ofstream out(file, std::ios::trunc);
  out << offset << "\n";
}

class AccessEventsE2E : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    alice.emplace(login(server, "alice"));
  }
  // The events of `type` (at least `at_least` of them, waited for).
  std::vector<Json> events(const std::string& type, std::size_t at_least = 1) {
    return await_events(*alice, "type=" + type, at_least);
  }
  std::optional<HttpClient> alice;  // an auditor
};

TEST_F(AccessEventsE2E, SignInsAndTheirFailuresAreRecordedWithoutTheTypedName) {
  HttpClient browser = server.client();
  browser.set_user_agent("e2e-browser/1.0");
  ASSERT_EQ(browser.post("/api/v1/session", R"({"username":"carol","password":"wrong password here"})").status, 401);
  const std::string typed = "hunter2-typed-into-the-name";
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(browser.post("/api/v1/session", R"({"username":")" + typed + R"(","password":"whatever it was"})").status,
              401);
  }
  const std::vector<Json> failed = events("UserSignInFailed", 3);
  ASSERT_EQ(failed.size(), 3u);
  EXPECT_EQ(failed[0]["data"]["username"].str(), "carol");
  EXPECT_EQ(failed[0]["data"]["reason"].str(), "wrong_password");
  EXPECT_EQ(failed[0]["actor"]["user"].str(), "carol");
  EXPECT_EQ(failed[0]["source"]["user_agent"].str(), "e2e-browser/1.0");
  EXPECT_EQ(failed[0]["source"]["ip"].str(), "127.0.0.1");
  EXPECT_TRUE(failed[1]["data"]["username"].is_null()) << "no account of that name";
  EXPECT_EQ(failed[1]["data"]["reason"].str(), "unknown_user");
  EXPECT_TRUE(std::regex_match(failed[1]["data"]["name_hash"].str(), std::regex("[0-9a-f]{64}")));
  EXPECT_EQ(failed[1]["data"]["name_hash"].str(), failed[2]["data"]["name_hash"].str())
      << "the same name gives the same hash, so attempts can be counted together";
  EXPECT_EQ(failed[1]["actor"]["user"].str(), "");

  // The text is nowhere: not in the export, not on disk, not in the server's log.
  const Response exported = alice->get("/api/v1/audit/export?format=jsonl");
  ASSERT_EQ(exported.status, 200);
  EXPECT_EQ(exported.body.find(typed), std::string::npos);
  EXPECT_TRUE(files_containing(server.data_dir(), typed).empty());
  EXPECT_EQ(server.log().find(typed), std::string::npos);

  HttpClient carol = login(server, "carol");
  const std::vector<Json> signed_in = await_events(*alice, "type=UserSignedIn&actor=carol", 1);
  ASSERT_EQ(signed_in.size(), 1u);
  EXPECT_EQ(signed_in[0]["actor"]["via"].str(), "session");
  EXPECT_EQ(signed_in[0]["stream"].str(), "system:access");
  EXPECT_TRUE(signed_in[0]["token_id"].is_null());
}

TEST_F(AccessEventsE2E, DisabledAndThrottledSignInsSayWhy) {
  ASSERT_EQ(admin->patch("/api/v1/users/carol", R"({"disabled":true})").status, 200);
  HttpClient c = server.client();
  const Response refused =
      c.post("/api/v1/session", R"({"username":"carol","password":)" + json_str(password_of("carol")) + "}");
  ASSERT_EQ(refused.status, 403) << describe(refused);
  for (int i = 0; i < 6; ++i) c.post("/api/v1/session", R"({"username":"bob","password":"not bob's password"})");
  const std::vector<Json> failed = events("UserSignInFailed", 7);
  ASSERT_EQ(failed.size(), 7u);
  EXPECT_EQ(failed[0]["data"]["reason"].str(), "disabled");
  std::size_t throttled = 0;
  for (const Json& e : failed) throttled += e["data"]["reason"].str() == "throttled" ? 1 : 0;
  EXPECT_GE(throttled, 1u) << "the sixth try within the window is throttled";
}

TEST_F(AccessEventsE2E, SignOutAndRevokedSessionsEnd) {
  HttpClient carol = login(server, "carol");
  ASSERT_EQ(carol.del("/api/v1/session").status, 204);
  HttpClient carol_again = login(server, "carol");
  const Response reset =
      admin->patch("/api/v1/users/carol",
                   R"({"password":)" + json_str("a-new-password-set-by-admin-71") + R"(,"must_change":true})");
  ASSERT_EQ(reset.status, 200) << describe(reset);
  const std::vector<Json> ended = events("SessionEnded", 2);
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_EQ(ended[0]["data"]["username"].str(), "carol");
  EXPECT_EQ(ended[0]["data"]["reason"].str(), "sign_out");
  EXPECT_EQ(ended[0]["actor"]["user"].str(), "carol");
  EXPECT_EQ(ended[1]["data"]["reason"].str(), "revoked");
  EXPECT_EQ(ended[1]["actor"]["user"].str(), "admin") << "who ended it";
  EXPECT_EQ(carol_again.get("/api/v1/me").status, 401);
}

TEST_F(AccessEventsE2E, RefusalsAreRecordedAlikeForAnotherUsersTokenAndNone) {
  HttpClient carol = login(server, "carol");
  const std::string carols = create_token(carol, "carol's", 15)["id"].str();
  ASSERT_EQ(alice->post("/api/v1/tokens/" + carols + "/reveal").status, 404);
  const std::vector<Json> first = events("AccessDenied", 1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0]["actor"]["user"].str(), "alice");
  EXPECT_EQ(first[0]["data"]["route"].str(), "/api/v1/tokens/{}/reveal");
  EXPECT_EQ(first[0]["data"]["target"].str(), "/api/v1/tokens/" + carols + "/reveal");
  EXPECT_EQ(first[0]["data"]["method"].str(), "POST");
  EXPECT_EQ(first[0]["data"]["status"].integer(), 404);
  EXPECT_EQ(first[0]["data"]["code"].str(), "not_found");
  EXPECT_EQ(first[0]["data"]["count"].integer(), 1);

  // A scan: many ids, one window. Counted, not one record each.
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(alice->post("/api/v1/tokens/tok_01JSCAN" + std::to_string(i) + "/reveal").status, 404);
  }
  HttpClient bob = login(server, "bob");
  ASSERT_EQ(bob.get("/api/v1/tokens").status, 403);
  const std::vector<Json> by_bob = await_events(*alice, "type=AccessDenied&actor=bob", 1);
  ASSERT_EQ(by_bob.size(), 1u);
  EXPECT_EQ(by_bob[0]["data"]["code"].str(), "forbidden");
  EXPECT_EQ(by_bob[0]["data"]["status"].integer(), 403);
  EXPECT_EQ(events("AccessDenied", 2).size(), 2u) << "alice's scan waits in its window";

  // The window's count is recorded when it ends, at the latest when the server stops.
  ASSERT_EQ(server.restart(), 0) << server.log();
  HttpClient a = login(server, "alice");
  const std::vector<Json> after = await_events(a, "type=AccessDenied&actor=alice", 2);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[1]["data"]["count"].integer(), 30);
  EXPECT_TRUE(after[1]["data"]["target"].is_null()) << "one count stands for many paths";
  // A spreadsheet sees the same: the CSV's details column.
  const Response csv = a.get("/api/v1/audit/export?format=csv&type=AccessDenied&actor=alice");
  ASSERT_EQ(csv.status, 200);
  EXPECT_NE(
      csv.body.find(",POST /api/v1/tokens/{}/reveal 404 not_found target=/api/v1/tokens/" + carols + "/reveal\r\n"),
      std::string::npos)
      << csv.body;
  EXPECT_NE(csv.body.find(",POST /api/v1/tokens/{}/reveal 404 not_found count=30 first_at="), std::string::npos)
      << csv.body;
}

TEST_F(AccessEventsE2E, ACodeTypedWhereAnIdBelongsNeverReachesTheTrail) {
  HttpClient carol = login(server, "carol");
  const std::string code = reveal(carol, create_token(carol, "pasted", 15)["id"].str());
  ASSERT_EQ(carol.del("/api/v1/tokens/" + code).status, 404);
  ASSERT_EQ(alice->get("/api/v1/audit?token_id=" + code).status, 200);  // a code pasted into a filter
  const std::vector<Json> denied = events("AccessDenied", 1);
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0]["data"]["target"].str(), "/api/v1/tokens/tlk_[redacted]");
  const std::vector<Json> reads = await_events(*alice, "type=AuditRead&actor=alice", 1);
  ASSERT_GE(reads.size(), 1u);
  EXPECT_EQ(reads[0]["data"]["filters"].str(), "token_id=tlk_[redacted]");
  const Response exported = alice->get("/api/v1/audit/export?format=jsonl");
  EXPECT_EQ(exported.body.find(code.substr(4)), std::string::npos) << "the code is nowhere in the trail";
}

TEST_F(AccessEventsE2E, ARefusedCredentialIsRecordedPerAddressWithoutAName) {
  const std::string id = create_token(*alice, "to delete", 15)["id"].str();
  const std::string code = reveal(*alice, id);
  ASSERT_EQ(alice->del("/api/v1/tokens/" + id).status, 204);
  HttpClient thief = server.client();
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(thief.get("/api/v1/tokens", {{"Authorization", "Bearer " + code}}).status, 401);
  }
  ASSERT_EQ(thief.get("/api/v1/tokens", {{"Cookie", "tl_session=made-up"}}).status, 401);
  ASSERT_EQ(thief.get("/api/v1/tokens").status, 401);  // no credential: a visitor, not recorded
  const std::vector<Json> denied = events("AccessDenied", 2);
  ASSERT_EQ(denied.size(), 2u);
  EXPECT_EQ(denied[0]["data"]["status"].integer(), 401);
  EXPECT_EQ(denied[0]["data"]["code"].str(), "unauthenticated");
  EXPECT_EQ(denied[0]["actor"]["user"].str(), "");
  EXPECT_EQ(denied[0]["actor"]["via"].str(), "api_token");
  EXPECT_EQ(denied[1]["actor"]["via"].str(), "session");
  EXPECT_EQ(denied[0]["source"]["ip"].str(), "127.0.0.1");
  // The other 19 come as one count when the minute ends: at the latest at the stop.
  ASSERT_EQ(server.restart(), 0) << server.log();
  HttpClient a = login(server, "alice");
  std::int64_t total = 0;
  for (const Json& e : await_events(a, "type=AccessDenied", 3)) {
    if (e["data"]["status"].integer() == 401 && e["actor"]["via"].str() == "api_token") {
      total += e["data"]["count"].integer();
    }
  }
  EXPECT_EQ(total, 20);
}

TEST_F(AccessEventsE2E, ABearerTokenRefusedByScopeIsRecordedWithItsId) {
  const std::string id = create_token(*alice, "script", 15)["id"].str();
  const std::string code = reveal(*alice, id);
  HttpClient script = server.client();
  const Response refused =
      script.post("/api/v1/tokens", token_body("by token", 5), {{"Authorization", "Bearer " + code}});
  ASSERT_EQ(refused.status, 403) << describe(refused);
  const std::vector<Json> denied = events("AccessDenied", 1);
  ASSERT_EQ(denied.size(), 1u);
  EXPECT_EQ(denied[0]["actor"]["via"].str(), "api_token");
  EXPECT_EQ(denied[0]["actor"]["token_id"].str(), id);
  EXPECT_EQ(denied[0]["data"]["code"].str(), "insufficient_scope");
}

TEST_F(AccessEventsE2E, ReadsOfTheTrailAreRecordedWithTheirFiltersButVerifyIsNot) {
  ASSERT_EQ(alice->get("/api/v1/audit?type=TokenCreated&limit=5").status, 200);
  ASSERT_EQ(alice->get("/api/v1/audit/export?format=csv&owner=carol").status, 200);
  ASSERT_EQ(alice->get("/api/v1/audit/export/manifest").status, 200);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(alice->get("/api/v1/audit/verify").status, 200);
  ASSERT_EQ(alice->get("/api/v1/audit?type=NoSuchType").status, 400);

  const std::vector<Json> exported = events("AuditExported", 1);
  ASSERT_EQ(exported.size(), 1u);
  EXPECT_EQ(exported[0]["data"]["format"].str(), "csv");
  EXPECT_EQ(exported[0]["data"]["filters"].str(), "format=csv&owner=carol");
  EXPECT_EQ(exported[0]["actor"]["user"].str(), "alice");
  const std::vector<Json> reads = events("AuditRead", 3);
  ASSERT_GE(reads.size(), 2u);
  EXPECT_EQ(reads[0]["data"]["route"].str(), "/api/v1/audit");
  EXPECT_EQ(reads[0]["data"]["filters"].str(), "limit=5&type=TokenCreated");
  EXPECT_EQ(reads[1]["data"]["route"].str(), "/api/v1/audit/export/manifest");
  for (const Json& r : reads) {
    EXPECT_NE(r["data"]["route"].str(), "/api/v1/audit/verify");
    EXPECT_EQ(r["data"]["filters"].str().find("NoSuchType"), std::string::npos) << "a refused read is no read";
  }
}

TEST_F(AccessEventsE2E, TheServersStartAndStopAreRecorded) {
  const std::vector<Json> started = events("ServerStarted", 1);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_FALSE(started[0]["data"]["version"].str().empty());
  EXPECT_NE(started[0]["data"]["options"].str().find("verify_on_start=tail"), std::string::npos);
  EXPECT_EQ(started[0]["data"]["verification"].str().rfind("ok", 0), 0u) << started[0]["data"]["verification"].str();
  EXPECT_EQ(started[0]["actor"]["via"].str(), "system");
  ASSERT_EQ(server.restart(), 0) << server.log();
  HttpClient a = login(server, "alice");
  const std::vector<Json> stopped = await_events(a, "type=ServerStopped", 1);
  ASSERT_EQ(stopped.size(), 1u);
  EXPECT_EQ(stopped[0]["data"]["reason"].str(), "signal");
  // Sessions live in memory: the stop ended every one (admin's and alice's), each recorded.
  std::size_t at_stop = 0;
  for (const Json& e : await_events(a, "type=SessionEnded", 2)) {
    if (e["data"]["reason"].str() == "server_stopped") {
      ++at_stop;
      EXPECT_LT(e["seq"].integer(), stopped[0]["seq"].integer());
    }
  }
  EXPECT_EQ(at_stop, 2u);
  EXPECT_EQ(await_events(a, "type=ServerStarted", 2).size(), 2u);
}

TEST(AccessEventsReadOnlyE2E, SignInWorksAndTheDroppedEventsAreCounted) {
  TestServer server;
  server.start();
  HttpClient admin = login(server, "admin", kAdminPassword);
  create_user(admin, "alice", {"auditors"});
  ASSERT_EQ(server.stop(), 0);
  std::vector<std::string> args = metrics_secret_args(server);
  args.push_back("--read-only");
  server.start({.extra_args = args});
  HttpClient alice = login(server, "alice");  // signing in keeps working
  const std::int64_t head = alice.get("/api/v1/audit/verify").json()["head"]["seq"].integer();
  EXPECT_EQ(alice.get("/api/v1/audit?limit=1").status, 200);
  EXPECT_EQ(server.client().post("/api/v1/session", R"({"username":"alice","password":"wrong password"})").status, 401);
  EXPECT_EQ(login(server, "alice").get("/api/v1/audit/verify").json()["head"]["seq"].integer(), head)
      << "nothing appended";
  const std::string metrics = server.client().get("/metrics", metrics_auth()).body;
  std::smatch dropped;
  ASSERT_TRUE(std::regex_search(metrics, dropped, std::regex("tokenledger_access_events_dropped_total (\\d+)")))
      << metrics;
  EXPECT_GE(std::stoi(dropped[1].str()), 5) << "ServerStarted, two sign-ins, a failed one, a read";
}

TEST(AccessEventsIdleE2E, AnIdleSessionsEndIsRecordedByTheSweep) {
  if (faketime_library().empty()) GTEST_SKIP() << "faketime is not installed";
  TestServer server;
  const std::string clock = server.data_dir() + "/../clock";
  set_clock(clock, "+0");
  server.start({.extra_args = {"--session-idle-minutes", "1"}, .fake_time_file = clock});
  HttpClient admin = login(server, "admin", kAdminPassword);
  create_user(admin, "alice", {"auditors"});
  HttpClient idle = login(server, "alice");
  set_clock(clock, "+2m");
  HttpClient alice = login(server, "alice");  // a fresh session, to read with
  // The sweep runs every 5 s; the idle session's end is recorded without its cookie coming back.
  std::vector<Json> ended = await_events(alice, "type=SessionEnded&actor=system", 2);
  std::size_t idle_ends = 0;
  for (const Json& e : ended) idle_ends += e["data"]["reason"].str() == "idle" ? 1 : 0;
  EXPECT_EQ(idle_ends, 2u) << "admin's and alice's first sessions";
  EXPECT_EQ(idle.get("/api/v1/me").status, 401);
}

}  // namespace
}  // namespace e2e
