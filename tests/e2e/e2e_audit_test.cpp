// End to end: the audit trail (who did what, from where), its filters and paging, the chain's
// verification, bad bodies appending nothing, a restart keeping everything, and no code or
// password ever written in plain text to the data directory or the log.
#include <algorithm>
#include <regex>
#include <set>
#include <thread>

#include "test_server.hpp"

namespace e2e {
namespace {

class AuditE2E : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    alice.emplace(login(server, "alice"));
  }
  std::optional<HttpClient> alice;
};

bool is_sha256_hex(const std::string& s) { return std::regex_match(s, std::regex("[0-9a-f]{64}")); }

// One filtered query of the trail; fails the test unless it answers 200.
Json audit(HttpClient& auditor, const std::string& query) {
  const Response res = auditor.get("/api/v1/audit" + query);
  if (res.status != 200) throw std::runtime_error("GET /api/v1/audit" + query + ": " + describe(res));
  return res.json();
}

TEST_F(AuditE2E, RevealAndDeleteShowWhoWhenAndFromWhere) {
  alice->set_user_agent("e2e-audit-agent/2.1 (alice's laptop)");
  const std::string id = create_token(*alice, "audited", 15)["id"].str();
  const Response revealed = alice->post("/api/v1/tokens/" + id + "/reveal", {}, {{"X-Request-Id", "req-reveal-42"}});
  ASSERT_EQ(revealed.status, 200) << describe(revealed);
  EXPECT_EQ(revealed.header("X-Request-Id"), "req-reveal-42");
  const std::string code = revealed.json()["token"].str();
  ASSERT_EQ(alice->del("/api/v1/tokens/" + id, {{"X-Request-Id", "req-delete-43"}}).status, 204);

  struct Expected {
    const char* type;
    const char* request_id;
    std::int64_t version;
  };
  for (const Expected& want :
       {Expected{"TokenRevealed", "req-reveal-42", 2}, Expected{"TokenDeleted", "req-delete-43", 3}}) {
    const Response res = alice->get(std::string("/api/v1/audit?type=") + want.type);
    ASSERT_EQ(res.status, 200) << describe(res);
    EXPECT_EQ(res.body.find(code), std::string::npos) << "no event holds the code";
    const Json events = res.json()["events"];
    ASSERT_EQ(events.size(), 1u) << res.body;
    const Json& e = events[0];
    EXPECT_EQ(e["type"].str(), want.type);
    EXPECT_EQ(e["token_id"].str(), id);
    EXPECT_EQ(e["stream"].str(), id);
    EXPECT_EQ(e["owner"].str(), "alice");
    EXPECT_EQ(e["version"].integer(), want.version);
    EXPECT_EQ(e["actor"]["user"].str(), "alice");
    EXPECT_EQ(e["actor"]["via"].str(), "session");
    EXPECT_EQ(e["source"]["ip"].str(), "127.0.0.1");
    EXPECT_EQ(e["source"]["user_agent"].str(), "e2e-audit-agent/2.1 (alice's laptop)");
    // The client's id is kept apart; request_id is always the server's own (issue 12).
    EXPECT_EQ(e["source"]["client_request_id"].str(), want.request_id);
    EXPECT_NE(e["source"]["request_id"].str(), want.request_id);
    EXPECT_TRUE(is_sha256_hex(e["hash"].str())) << e["hash"].str();
    EXPECT_TRUE(is_sha256_hex(e["prev_hash"].str())) << e["prev_hash"].str();
    EXPECT_GE(e["seq"].integer(), 1);
    EXPECT_NO_THROW(unix_ms(e["at"].str()));
  }
  const Json by_token = audit(*alice, "?token_id=" + id)["events"];
  ASSERT_EQ(by_token.size(), 3u);
  EXPECT_EQ(by_token[0]["type"].str(), "TokenCreated");
  EXPECT_EQ(by_token[1]["prev_hash"].str(),
            audit(*alice, "?after_seq=" + std::to_string(by_token[1]["seq"].integer() - 1) +
                              "&limit=1")["events"][0]["prev_hash"]
                .str());
}

TEST_F(AuditE2E, FiltersAndPaging) {
  HttpClient carol = login(server, "carol");
  const std::string a1 = create_token(*alice, "a1", 15)["id"].str();
  const std::string c1 = create_token(carol, "c1", 15)["id"].str();
  reveal(*alice, a1);
  reveal(carol, c1);
  ASSERT_EQ(alice->patch("/api/v1/tokens/" + a1, R"({"description":"a1 renamed"})").status, 200);

  // Every read of the trail appends an AuditRead (best effort, a moment later), so the trail grows
  // while this test reads it: what was there stays, in order, without gaps.
  const Json all = audit(*alice, "?limit=1000");
  EXPECT_TRUE(all["next_after_seq"].is_null());
  const std::int64_t total = static_cast<std::int64_t>(all["events"].size());
  std::int64_t domain = 0;
  for (const Json& e : all["events"].items()) domain += is_access_event_type(e["type"].str()) ? 0 : 1;
  ASSERT_EQ(domain, audit_event_count(*alice));
  for (std::int64_t i = 0; i < total; ++i) {
    EXPECT_EQ(all["events"][static_cast<std::size_t>(i)]["seq"].integer(), i + 1) << "ascending, gap-free";
  }
  const std::size_t first_page = audit(*alice, "")["events"].size();
  EXPECT_GE(first_page, static_cast<std::size_t>(std::min<std::int64_t>(total, 100)));
  EXPECT_LE(first_page, 100u);

  const Json by_token = audit(*alice, "?token_id=" + a1)["events"];
  ASSERT_EQ(by_token.size(), 3u);
  for (const Json& e : by_token.items()) EXPECT_EQ(e["token_id"].str(), a1);
  const Json by_actor = audit(*alice, "?actor=carol")["events"];
  std::size_t carols = 0;
  for (const Json& e : by_actor.items()) {
    EXPECT_EQ(e["actor"]["user"].str(), "carol");
    carols += is_access_event_type(e["type"].str()) ? 0 : 1;
  }
  EXPECT_EQ(carols, 2u) << "her token's creation and reveal (and her sign-in, an access event)";
  const Json combined = audit(*alice, "?actor=carol&type=TokenRevealed")["events"];
  ASSERT_EQ(combined.size(), 1u);
  EXPECT_EQ(combined[0]["token_id"].str(), c1);
  EXPECT_EQ(audit(*alice, "?type=UserCreated")["events"].size(), 4u) << "admin, alice, bob, carol";
  EXPECT_EQ(audit(*alice, "?token_id=tok_nonexistent")["events"].size(), 0u);

  const std::int64_t middle = total / 2;
  const Json after = audit(*alice, "?after_seq=" + std::to_string(middle))["events"];
  ASSERT_GE(static_cast<std::int64_t>(after.size()), total - middle);
  EXPECT_EQ(after[0]["seq"].integer(), middle + 1);

  // Paging with limit=2 walks the whole trail exactly once.
  std::vector<std::int64_t> seen;
  std::string cursor = "0";
  for (int page = 0; page < 100; ++page) {
    const Json p = audit(*alice, "?limit=2&after_seq=" + cursor);
    ASSERT_GT(p["events"].size(), 0u) << "an empty page after next_after_seq " << cursor;
    for (const Json& e : p["events"].items()) seen.push_back(e["seq"].integer());
    if (p["next_after_seq"].is_null()) break;
    EXPECT_EQ(p["events"].size(), 2u);
    EXPECT_EQ(p["next_after_seq"].integer(), seen.back());
    cursor = std::to_string(p["next_after_seq"].integer());
  }
  ASSERT_GE(static_cast<std::int64_t>(seen.size()), total);
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], static_cast<std::int64_t>(i) + 1);

  EXPECT_EQ(audit(*alice, "?since=2999-01-01T00:00:00Z")["events"].size(), 0u);
  EXPECT_EQ(audit(*alice, "?until=2000-01-01T00:00:00Z")["events"].size(), 0u);
  EXPECT_GE(audit(*alice, "?since=2000-01-01T00:00:00Z&limit=1000")["events"].size(), static_cast<std::size_t>(total));

  for (const char* bad : {"?limit=0", "?limit=1001", "?limit=ten", "?limit=-1", "?after_seq=x", "?since=yesterday",
                          "?until=2026-13-45T99:00:00Z"}) {
    const Response res = alice->get(std::string("/api/v1/audit") + bad);
    EXPECT_EQ(res.status, 400) << bad << ": " << describe(res);
    EXPECT_EQ(res.error_code(), "invalid_field") << bad;
  }
  EXPECT_EQ(alice->get("/api/v1/audit?limit=1000").status, 200);
  EXPECT_EQ(alice->get("/api/v1/audit?limit=1").status, 200);

  HttpClient bob = login(server, "bob");
  for (HttpClient* c : {&bob, &carol}) {
    for (const char* path : {"/api/v1/audit", "/api/v1/audit/verify"}) {
      const Response res = c->get(path);
      EXPECT_EQ(res.status, 403) << path << ": " << describe(res);
      EXPECT_EQ(res.error_code(), "forbidden");
    }
  }
  EXPECT_EQ(server.client().get("/api/v1/audit").status, 401);
}

// owner= (issue 18): every event on a user's tokens, whoever acted (the owner, an admin), in any
// letter case; with the other filters; on the export and its manifest too.
TEST_F(AuditE2E, TheOwnerFilterShowsEverythingDoneToAUsersTokens) {
  HttpClient carol = login(server, "carol");
  HttpClient admin_b = login(server, "admin");  // a second session of the admin's
  const std::string c1 = create_token(carol, "c1", 15)["id"].str();
  const std::string c2 = create_token(carol, "c2", 15)["id"].str();
  const std::string a1 = create_token(*alice, "a1", 15)["id"].str();
  reveal(carol, c1);
  reveal(*alice, a1);
  const Response revoked = admin_b.post("/api/v1/users/carol/revoke-tokens", R"({"reason":"left the team"})",
                                        {{"Content-Type", "application/json"}});
  ASSERT_EQ(revoked.status, 200) << describe(revoked);

  for (const std::string owner : {"carol", "CAROL", "Carol"}) {
    const Json events = audit(*alice, "?owner=" + owner + "&limit=1000")["events"];
    // c1: created, revealed, deleted; c2: created, deleted.
    ASSERT_EQ(events.size(), 5u) << owner;
    std::set<std::string> actors, tokens;
    for (const Json& e : events.items()) {
      EXPECT_EQ(e["owner"].str(), "carol");
      actors.insert(e["actor"]["user"].str());
      tokens.insert(e["token_id"].str());
    }
    EXPECT_EQ(actors, (std::set<std::string>{"carol", "admin"})) << "the admin's deletions are on carol's tokens";
    EXPECT_EQ(tokens, (std::set<std::string>{c1, c2}));
  }
  const Json by_admin = audit(*alice, "?owner=carol&actor=admin")["events"];
  ASSERT_EQ(by_admin.size(), 2u);
  for (const Json& e : by_admin.items()) EXPECT_EQ(e["type"].str(), "TokenDeleted");
  EXPECT_EQ(audit(*alice, "?owner=carol&type=TokenRevealed")["events"].size(), 1u);
  EXPECT_EQ(audit(*alice, "?owner=carol&token_id=" + a1)["events"].size(), 0u);
  EXPECT_EQ(audit(*alice, "?owner=nobody")["events"].size(), 0u);
  // Paged: limit=2 walks the five once.
  const Json first = audit(*alice, "?owner=carol&limit=2");
  ASSERT_EQ(first["events"].size(), 2u);
  const Json rest =
      audit(*alice, "?owner=carol&limit=1000&after_seq=" + std::to_string(first["next_after_seq"].integer()));
  EXPECT_EQ(rest["events"].size(), 3u);

  const Response exported = alice->get("/api/v1/audit/export?format=jsonl&owner=carol");
  ASSERT_EQ(exported.status, 200) << describe(exported);
  EXPECT_EQ(std::count(exported.body.begin(), exported.body.end(), '\n'), 5);
  const std::string export_head = exported.header("Tokenledger-Export-Head");  // seq=N, hash=H
  ASSERT_EQ(export_head.rfind("seq=", 0), 0u) << export_head;
  const std::string head_seq = export_head.substr(4, export_head.find(',') - 4);
  const Response manifest = alice->get("/api/v1/audit/export/manifest?owner=carol&head_seq=" + head_seq);
  ASSERT_EQ(manifest.status, 200) << describe(manifest);
  EXPECT_EQ(manifest.json()["filters"]["owner"].str(), "carol");
  EXPECT_EQ(manifest.json()["count"].integer(), 5);
  const Response bad = alice->get("/api/v1/audit?owner=%FF");
  EXPECT_EQ(bad.status, 400) << describe(bad);
}

TEST_F(AuditE2E, VerifyReportsTheChainHead) {
  const std::string id = create_token(*alice, "chained", 15)["id"].str();
  reveal(*alice, id);
  const Response res = alice->get("/api/v1/audit/verify");
  ASSERT_EQ(res.status, 200) << describe(res);
  const Json v = res.json();
  EXPECT_TRUE(v["ok"].boolean());
  const Json events = audit(*alice, "?limit=1000")["events"];
  ASSERT_EQ(v["events"].integer(), static_cast<std::int64_t>(events.size()));
  EXPECT_EQ(v["head"]["seq"].integer(), v["events"].integer());
  EXPECT_EQ(v["head"]["hash"].str(), events[events.size() - 1]["hash"].str());
  for (std::size_t i = 1; i < events.size(); ++i) {
    EXPECT_EQ(events[i]["prev_hash"].str(), events[i - 1]["hash"].str()) << "seq " << events[i]["seq"].integer();
  }
}

TEST_F(AuditE2E, BadBodiesAppendNothing) {
  const std::string id = create_token(*alice, "untouched", 15)["id"].str();
  const std::int64_t events = audit_event_count(*alice);
  const std::string good_timeout = R"("timeout":{"value":15,"unit":"days"})";
  struct Case {
    std::string method, target, body, content_type;
    int status;
    std::string code;
  };
  const std::string tokens = "/api/v1/tokens", token = "/api/v1/tokens/" + id;
  const std::string huge = R"({"description":")" + std::string(65 * 1024, 'x') + R"(",)" + good_timeout + "}";
  const std::vector<Case> cases = {
      {"POST", tokens, R"({"description":)", "", 400, "invalid_json"},
      {"POST", tokens, "[]", "", 400, "invalid_json"},
      {"POST", tokens, R"([{"description":"x",)" + good_timeout + "}]", "", 400, "invalid_json"},
      {"POST", tokens, R"({"description":"x",)" + good_timeout + "} trailing", "", 400, "invalid_json"},
      {"POST", tokens, R"({"description":"x",)" + good_timeout + "}{}", "", 400, "invalid_json"},
      {"POST", tokens, "\"just a string\"", "", 400, "invalid_json"},
      {"POST", tokens, "", "application/json", 400, "invalid_json"},
      {"POST", tokens, R"({"description":5,)" + good_timeout + "}", "", 400, "invalid_field"},
      {"POST", tokens, R"({"description":null,)" + good_timeout + "}", "", 400, "invalid_field"},
      {"POST", tokens, R"({"description":["x"],)" + good_timeout + "}", "", 400, "invalid_field"},
      {"POST", tokens, R"({"description":"x","timeout":15})", "", 400, "invalid_field"},
      {"POST", tokens, R"({"description":"x"})", "", 400, "invalid_field"},
      {"POST", tokens, R"({"description":"x",)" + good_timeout + R"(,"color":"red"})", "", 400, "unknown_field"},
      {"POST", tokens, R"({"description":"x",)" + good_timeout + R"(,"token":"tlk_mine"})", "", 400, "unknown_field"},
      {"POST", tokens, R"({"description":"x","description":"y",)" + good_timeout + "}", "", 400, "invalid_json"},
      {"POST", tokens, R"({"description":"x",)" + good_timeout + "}", "text/plain", 415, "unsupported_media_type"},
      {"POST", tokens, R"({"description":"x",)" + good_timeout + "}", "application/x-www-form-urlencoded", 415,
       "unsupported_media_type"},
      {"POST", tokens, huge, "", 413, "body_too_large"},
      {"PATCH", token, "{not json}", "", 400, "invalid_json"},
      {"PATCH", token, R"({"description":true})", "", 400, "invalid_field"},
      {"PATCH", token, R"({"code":"tlk_x"})", "", 400, "unknown_field"},
      {"PATCH", token, R"({"description":"a","description":"b"})", "", 400, "invalid_json"},
      {"PATCH", token, R"({"description":"x"})", "text/plain", 415, "unsupported_media_type"},
      {"PATCH", token, R"({"description":")" + std::string(70000, 'y') + "\"}", "", 413, "body_too_large"},
      {"POST", "/api/v1/session", R"({"username":"alice"})", "", 400, "invalid_field"},
      {"POST", "/api/v1/session", R"({"username":"alice","password":1})", "", 400, "invalid_field"},
      {"POST", "/api/v1/users", R"({"username":"eve","password":"long-enough-1","admin":true})", "", 400,
       "unknown_field"},
      {"POST", "/api/v1/users", R"({"username":"Eve!","password":"long-enough-1"})", "", 400, "invalid_field"},
  };
  for (const Case& c : cases) {
    HttpClient& client = c.target.starts_with("/api/v1/users") ? *admin : *alice;
    Headers headers;
    if (!c.content_type.empty()) headers.emplace_back("Content-Type", c.content_type);
    const Response res = client.request(c.method, c.target, c.body, headers);
    const std::string label = c.method + " " + c.target + " " + c.body.substr(0, 80);
    EXPECT_EQ(res.status, c.status) << label << ": " << describe(res).substr(0, 300);
    EXPECT_EQ(res.error_code(), c.code) << label;
  }
  EXPECT_EQ(audit_event_count(*alice), events) << "no bad body appended an event";
  const Json list = alice->get("/api/v1/tokens").json()["tokens"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["description"].str(), "untouched");
  EXPECT_EQ(list[0]["version"].integer(), 1);
  EXPECT_EQ(admin->get("/api/v1/users").json()["users"].size(), 4u);
}

TEST_F(AuditE2E, RestartKeepsEverything) {
  const std::string kept = create_token(*alice, "kept", 15)["id"].str();
  const std::string edited = create_token(*alice, "to edit", 30)["id"].str();
  const std::string gone = create_token(*alice, "to delete", 5)["id"].str();
  const std::string code = reveal(*alice, kept);
  ASSERT_EQ(alice->patch("/api/v1/tokens/" + edited, R"({"description":"edited","timeout":{"value":60,"unit":"days"}})")
                .status,
            200);
  ASSERT_EQ(alice->del("/api/v1/tokens/" + gone).status, 204);
  // A use is logged (TokenUsed, in the background): wait until it is part of the token.
  ASSERT_TRUE(introspect(server, code).json()["active"].boolean());
  Json used;
  for (int i = 0; i < 250; ++i) {
    used = alice->get("/api/v1/tokens/" + kept).json();
    if (used["version"].integer() == 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(used["version"].integer(), 3) << "created, revealed, used: " << alice->get("/api/v1/tokens/" + kept).body;
  ASSERT_TRUE(used["last_used_at"].is_string());
  const std::string tokens_before = alice->get("/api/v1/tokens").body;
  const std::string trail_before = domain_trail(*alice);
  const std::string head_before = chain_head(*alice);
  const std::int64_t events_before = audit_event_count(*alice);
  const std::string users_before = admin->get("/api/v1/users").body;

  for (int round = 0; round < 2; ++round) {
    ASSERT_EQ(server.restart(), 0) << server.log();
    HttpClient a = login(server, "alice");
    EXPECT_EQ(a.get("/api/v1/tokens").body, tokens_before) << "round " << round;
    EXPECT_EQ(domain_trail(a), trail_before) << "round " << round;
    EXPECT_EQ(chain_head(a), head_before) << "round " << round;
    EXPECT_EQ(login(server, "admin").get("/api/v1/users").body, users_before);
    EXPECT_EQ(a.get("/api/v1/tokens/" + gone).status, 404);
    EXPECT_EQ(a.get("/api/v1/tokens/" + edited).header("ETag"), "\"3\"");
    EXPECT_EQ(a.get("/api/v1/tokens/" + kept).json()["last_used_at"].str(), used["last_used_at"].str());
  }
  HttpClient a = login(server, "alice");
  EXPECT_EQ(reveal(a, kept), code) << "the code revealed before the restart is the same after";
  EXPECT_EQ(audit_event_count(a), events_before + 1);
  EXPECT_TRUE(introspect(server, code).json()["active"].boolean());
  EXPECT_EQ(create_token(a, "after restart", 15)["version"].integer(), 1);
  const Json list = a.get("/api/v1/tokens").json()["tokens"];
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0]["description"].str(), "after restart") << "still newest first";
}

TEST_F(AuditE2E, CodesAndPasswordsNeverStoredOrLoggedInPlainText) {
  std::vector<std::string> codes;
  for (int i = 0; i < 3; ++i) {
    const std::string id = create_token(*alice, "secret " + std::to_string(i), 15)["id"].str();
    codes.push_back(reveal(*alice, id));
    if (i == 2) {
      ASSERT_EQ(alice->del("/api/v1/tokens/" + id).status, 204);
    }
  }
  // Use the codes the ways clients do, including carelessly in a query string.
  HttpClient other = server.client();
  for (const std::string& code : codes) {
    other.get("/api/v1/tokens", {{"Authorization", "Bearer " + code}});
    other.get("/api/v1/tokens?token=" + code, {{"Authorization", "Bearer " + code}});
    introspect(server, code);
    introspect(server, code, false);
  }
  ASSERT_EQ(admin->patch("/api/v1/users/carol", R"({"password":"changed-password-99"})").status, 200);
  const std::vector<std::string> passwords = {kAdminPassword, password_of("alice"), password_of("bob"),
                                              password_of("carol"), "changed-password-99"};

  for (int phase = 0; phase < 2; ++phase) {  // while running, then after a clean stop
    const std::string log = server.log();
    ASSERT_NE(log.find("listening on"), std::string::npos);
    for (const std::string& code : codes) {
      EXPECT_EQ(log.find(code), std::string::npos) << "the log holds a revealed code";
      EXPECT_EQ(log.find(code.substr(0, 20)), std::string::npos) << "the log holds part of a code";
      EXPECT_TRUE(files_containing(server.data_dir(), code).empty()) << "a data file holds a revealed code";
    }
    for (const std::string& password : passwords) {
      EXPECT_EQ(log.find(password), std::string::npos) << "the log holds a password";
      EXPECT_TRUE(files_containing(server.data_dir(), password).empty()) << "a data file holds a password";
    }
    EXPECT_EQ(log.find(kIntrospectionSecret), std::string::npos);
    if (phase == 0) {
      ASSERT_EQ(server.stop(), 0);
    }
  }
  // The scan does find what is there. (Not a description: since the delete above is shredded
  // (--shred-seconds), the records sit in compressed tables rather than the plain write-ahead log.)
  EXPECT_FALSE(files_containing(server.data_dir(), "MANIFEST-").empty()) << "the scan reads the database files";
}

}  // namespace
}  // namespace e2e
