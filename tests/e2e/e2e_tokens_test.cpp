// End to end: the token lifecycle of API.md (create, list, show, reveal, edit, If-Match,
// validation, delete, history, expiry) and the group gate, against the real server.

#include "test_server.hpp"

namespace e2e {
namespace {

constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;

class TokensE2E : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    alice.emplace(login(server, "alice"));
  }
  std::optional<HttpClient> alice;
};

void expect_masked_token(const Json& t) {
  EXPECT_TRUE(t["id"].str().starts_with("tok_")) << t["id"].str();
  EXPECT_FALSE(t["masked"].str().empty());
  EXPECT_EQ(t["masked"].str().find("tlk_"), std::string::npos);
  EXPECT_FALSE(t.has("token"));
  EXPECT_FALSE(t.has("code"));
  EXPECT_EQ(t["timeout"]["unit"].str(), "days");
  EXPECT_EQ(unix_ms(t["expires_at"].str()) - unix_ms(t["created_at"].str()), t["timeout"]["value"].integer() * kDayMs);
}

TEST_F(TokensE2E, CreateListGetReveal) {
  Response created = alice->post("/api/v1/tokens", token_body("CI pipeline", 15));
  ASSERT_EQ(created.status, 201) << describe(created);
  EXPECT_EQ(created.body.find("tlk_"), std::string::npos) << created.body;
  EXPECT_EQ(created.header("ETag"), "\"1\"");
  const Json first = created.json();
  const std::string id = first["id"].str();
  EXPECT_EQ(created.header("Location"), "/api/v1/tokens/" + id);
  EXPECT_EQ(first["description"].str(), "CI pipeline");
  EXPECT_EQ(first["timeout"]["value"].integer(), 15);
  EXPECT_EQ(first["version"].integer(), 1);
  EXPECT_FALSE(first["expired"].boolean());
  EXPECT_EQ(first["created_at"].str(), first["updated_at"].str());
  EXPECT_TRUE(first["last_used_at"].is_null());
  expect_masked_token(first);

  const std::string second = create_token(*alice, "deploy bot", 30)["id"].str();
  const Response list = alice->get("/api/v1/tokens");
  ASSERT_EQ(list.status, 200) << describe(list);
  EXPECT_EQ(list.body.find("tlk_"), std::string::npos) << list.body;
  const Json tokens = list.json()["tokens"];
  ASSERT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens[0]["id"].str(), second) << "newest first";
  EXPECT_EQ(tokens[1]["id"].str(), id);
  for (const Json& t : tokens.items()) expect_masked_token(t);

  const Response got = alice->get("/api/v1/tokens/" + id);
  ASSERT_EQ(got.status, 200) << describe(got);
  EXPECT_EQ(got.header("ETag"), "\"1\"");
  EXPECT_EQ(got.json()["description"].str(), "CI pipeline");
  EXPECT_EQ(got.body.find("tlk_"), std::string::npos);

  const Response revealed = alice->post("/api/v1/tokens/" + id + "/reveal");
  ASSERT_EQ(revealed.status, 200) << describe(revealed);
  EXPECT_NE(revealed.header("Cache-Control").find("no-store"), std::string::npos) << revealed.header("Cache-Control");
  const Json r = revealed.json();
  EXPECT_EQ(r["id"].str(), id);
  const std::string code = r["token"].str();
  EXPECT_TRUE(code.starts_with("tlk_")) << code;
  EXPECT_GE(code.size(), 32u);
  EXPECT_EQ(reveal(*alice, id), code) << "the code is immutable";
  EXPECT_NE(reveal(*alice, second), code) << "each token has its own code";

  // Reveals are events of the token's stream, so they count in its version.
  const Response after = alice->get("/api/v1/tokens/" + id);
  EXPECT_EQ(after.json()["version"].integer(), 3);
  EXPECT_EQ(after.header("ETag"), "\"3\"");
}

TEST_F(TokensE2E, EditRecomputesExpiryFromCreation) {
  const Json t = create_token(*alice, "original", 15);
  const std::string id = t["id"].str();
  const Response edited =
      alice->patch("/api/v1/tokens/" + id, R"({"description":"  renamed\t ","timeout":{"value":30,"unit":"days"}})");
  ASSERT_EQ(edited.status, 200) << describe(edited);
  const Json e = edited.json();
  EXPECT_EQ(e["description"].str(), "renamed") << "stored trimmed";
  EXPECT_EQ(e["timeout"]["value"].integer(), 30);
  EXPECT_EQ(e["created_at"].str(), t["created_at"].str());
  EXPECT_EQ(unix_ms(e["expires_at"].str()), unix_ms(t["created_at"].str()) + 30 * kDayMs);
  EXPECT_GE(unix_ms(e["updated_at"].str()), unix_ms(t["updated_at"].str()));
  EXPECT_EQ(e["version"].integer(), 3) << "one event per changed field";
  EXPECT_EQ(edited.header("ETag"), "\"3\"");
  EXPECT_EQ(edited.body.find("tlk_"), std::string::npos);

  const Response shorter = alice->patch("/api/v1/tokens/" + id, R"({"timeout":{"value":2,"unit":"days"}})");
  ASSERT_EQ(shorter.status, 200) << describe(shorter);
  EXPECT_EQ(unix_ms(shorter.json()["expires_at"].str()), unix_ms(t["created_at"].str()) + 2 * kDayMs);
  EXPECT_EQ(alice->get("/api/v1/tokens/" + id).json()["description"].str(), "renamed");

  const Response created = alice->post("/api/v1/tokens", token_body("  padded  ", 7));
  ASSERT_EQ(created.status, 201) << describe(created);
  EXPECT_EQ(created.json()["description"].str(), "padded");
}

TEST_F(TokensE2E, IfMatchGuardsEdits) {
  const std::string id = create_token(*alice, "guarded", 15)["id"].str();
  const std::string path = "/api/v1/tokens/" + id;
  const Response first = alice->patch(path, R"({"description":"v2"})", {{"If-Match", "\"1\""}});
  ASSERT_EQ(first.status, 200) << describe(first);
  EXPECT_EQ(first.header("ETag"), "\"2\"");

  const std::int64_t events = audit_event_count(*alice);
  const Response stale = alice->patch(path, R"({"description":"lost update"})", {{"If-Match", "\"1\""}});
  EXPECT_EQ(stale.status, 412) << describe(stale);
  EXPECT_EQ(stale.error_code(), "precondition_failed");
  EXPECT_EQ(alice->get(path).json()["description"].str(), "v2");
  EXPECT_EQ(audit_event_count(*alice), events) << "a refused edit appends nothing";

  const Response unquoted = alice->patch(path, R"({"description":"v3"})", {{"If-Match", "2"}});
  ASSERT_EQ(unquoted.status, 200) << describe(unquoted);
  EXPECT_EQ(unquoted.json()["description"].str(), "v3");
  EXPECT_EQ(unquoted.json()["version"].integer(), 3);

  const Response matching = alice->patch(path, R"({"description":"v4"})", {{"If-Match", "\"3\""}});
  ASSERT_EQ(matching.status, 200) << describe(matching);
  const Response garbage = alice->patch(path, R"({"description":"v5"})", {{"If-Match", "\"abc\""}});
  EXPECT_EQ(garbage.status, 412) << describe(garbage);
  EXPECT_EQ(alice->get(path).json()["description"].str(), "v4");
}

TEST_F(TokensE2E, InvalidFieldsAreRefusedAndAppendNothing) {
  const std::string id = create_token(*alice, "target", 15)["id"].str();
  const std::int64_t events = audit_event_count(*alice);
  std::string accented;
  for (int i = 0; i < 201; ++i) accented += "\xc3\xa9";  // 201 characters of é, 402 bytes
  // The description as JSON string content (escapes are JSON's), and the error code expected.
  const std::pair<std::string, std::string> bad_descriptions[] = {{"", "invalid_field"},
                                                                  {"  \\t ", "invalid_field"},
                                                                  {std::string(201, 'x'), "invalid_field"},
                                                                  {accented, "invalid_field"},
                                                                  {"tab\\there", "invalid_field"},
                                                                  {"bell\\u0007", "invalid_field"},
                                                                  {"\\u202Eevil", "invalid_field"},
                                                                  {"\xff\xfe", "invalid_json"}};
  for (const auto& [d, code] : bad_descriptions) {
    const Response res =
        alice->post("/api/v1/tokens", R"({"description":")" + d + R"(","timeout":{"value":15,"unit":"days"}})");
    EXPECT_EQ(res.status, 400) << "description [" << d << "]: " << describe(res);
    EXPECT_EQ(res.error_code(), code) << "description [" << d << "]: " << describe(res);
    const Response patched = alice->patch("/api/v1/tokens/" + id, R"({"description":")" + d + R"("})");
    EXPECT_EQ(patched.status, 400) << "patch description [" << d << "]: " << describe(patched);
    EXPECT_EQ(patched.error_code(), code) << "patch description [" << d << "]: " << describe(patched);
  }
  for (const std::string timeout :
       {R"({"value":0,"unit":"days"})", R"({"value":366,"unit":"days"})", R"({"value":-1,"unit":"days"})",
        R"({"value":1.5,"unit":"days"})", R"({"value":"15","unit":"days"})", R"({"value":15,"unit":"hours"})",
        R"({"unit":"days"})", R"(15)", R"(null)"}) {
    const Response res = alice->post("/api/v1/tokens", R"({"description":"fine","timeout":)" + timeout + "}");
    EXPECT_EQ(res.status, 400) << "timeout " << timeout << ": " << describe(res);
    EXPECT_EQ(res.error_code(), "invalid_field") << "timeout " << timeout << ": " << describe(res);
    const Response patched = alice->patch("/api/v1/tokens/" + id, R"({"timeout":)" + timeout + "}");
    EXPECT_EQ(patched.status, 400) << "patch timeout " << timeout << ": " << describe(patched);
  }
  for (const std::string body : {R"({"token":"tlk_x"})", R"({"code":"tlk_x"})", R"({"id":"tok_x"})", R"({"version":9})",
                                 R"({"description":"x","owner":"carol"})"}) {
    const Response res = alice->patch("/api/v1/tokens/" + id, body);
    EXPECT_EQ(res.status, 400) << body << ": " << describe(res);
    EXPECT_EQ(res.error_code(), "unknown_field") << body;
  }
  const Response nothing = alice->patch("/api/v1/tokens/" + id, "{}");
  EXPECT_EQ(nothing.status, 400) << describe(nothing);
  EXPECT_EQ(audit_event_count(*alice), events) << "refused requests append nothing";
  const Json t = alice->get("/api/v1/tokens/" + id).json();
  EXPECT_EQ(t["description"].str(), "target");
  EXPECT_EQ(t["version"].integer(), 1);
  EXPECT_EQ(alice->get("/api/v1/tokens").json()["tokens"].size(), 1u);
}

TEST_F(TokensE2E, BoundaryValuesAreAccepted) {
  std::string accented;
  for (int i = 0; i < 200; ++i) accented += "\xc3\xa9";  // 200 characters, 400 bytes
  for (const auto& [description, days] :
       std::vector<std::pair<std::string, int>>{{"a", 1}, {std::string(200, 'x'), 365}, {accented, 100}}) {
    const Response res = alice->post("/api/v1/tokens", token_body(description, days));
    ASSERT_EQ(res.status, 201) << describe(res);
    EXPECT_EQ(res.json()["description"].str(), description);
    EXPECT_EQ(res.json()["timeout"]["value"].integer(), days);
  }
}

TEST_F(TokensE2E, LenientWhereJsonAllowsIt) {
  const Response spaced = alice->post("/api/v1/tokens", " \n" + token_body("spaced", 3) + "\r\n",
                                      {{"Content-Type", "Application/JSON; charset=UTF-8"}});
  EXPECT_EQ(spaced.status, 201) << "whitespace around the value is JSON: " << describe(spaced);
  const Response escaped =
      alice->post("/api/v1/tokens", R"({"timeout":{"unit":"days","value":3},"description":"caf\u00e9"})");
  ASSERT_EQ(escaped.status, 201) << describe(escaped);
  EXPECT_EQ(escaped.json()["description"].str(), "caf\xc3\xa9");
}

// The top-level object refuses repeated members; the nested timeout object must too, or a
// proxy that reads the first "value" and the server that reads the last would disagree.
TEST_F(TokensE2E, RepeatedMembersInTimeoutAreRefused) {
  for (const std::string timeout :
       {R"({"value":400,"value":15,"unit":"days"})", R"({"value":15,"unit":"hours","unit":"days"})"}) {
    const Response res = alice->post("/api/v1/tokens", R"({"description":"dup","timeout":)" + timeout + "}");
    EXPECT_EQ(res.status, 400) << timeout << ": " << describe(res);
  }
  EXPECT_EQ(alice->get("/api/v1/tokens").json()["tokens"].size(), 0u);
}

TEST_F(TokensE2E, LiveTokenLimit) {
  ASSERT_EQ(server.restart({.extra_args = {"--max-tokens-per-user", "2"}}), 0);
  HttpClient a = login(server, "alice");
  const std::string first = create_token(a, "one", 15)["id"].str();
  create_token(a, "two", 15);
  const std::int64_t events = audit_event_count(a);
  const Response third = a.post("/api/v1/tokens", token_body("three", 15));
  EXPECT_EQ(third.status, 409) << describe(third);
  EXPECT_EQ(audit_event_count(a), events);
  HttpClient carol = login(server, "carol");
  EXPECT_NO_THROW(create_token(carol, "carol's own limit", 15)) << "the limit is per user";
  ASSERT_EQ(a.del("/api/v1/tokens/" + first).status, 204);
  EXPECT_NO_THROW(create_token(a, "three, after a delete", 15));
}

TEST_F(TokensE2E, DeletedTokenIsGone) {
  const std::string id = create_token(*alice, "short-lived", 15)["id"].str();
  const std::string code = reveal(*alice, id);
  ASSERT_EQ(alice->patch("/api/v1/tokens/" + id, R"({"description":"renamed"})").status, 200);

  const Response history = alice->get("/api/v1/tokens/" + id + "/history");
  ASSERT_EQ(history.status, 200) << describe(history);
  EXPECT_EQ(history.body.find(code), std::string::npos) << "no event holds the code";
  const Json events = history.json()["events"];
  ASSERT_EQ(events.size(), 3u) << history.body;
  const char* types[] = {"TokenCreated", "TokenRevealed", "TokenDescriptionChanged"};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(events[i]["type"].str(), types[i]);
    EXPECT_EQ(events[i]["version"].integer(), static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(events[i]["stream"].str(), id);
    EXPECT_EQ(events[i]["actor"]["user"].str(), "alice");
  }

  const Response deleted = alice->del("/api/v1/tokens/" + id);
  EXPECT_EQ(deleted.status, 204) << describe(deleted);
  EXPECT_TRUE(deleted.body.empty());
  const std::string path = "/api/v1/tokens/" + id;
  for (const Response& res : {alice->get(path), alice->patch(path, R"({"description":"zombie"})"),
                              alice->post(path + "/reveal"), alice->del(path), alice->get(path + "/history")}) {
    EXPECT_EQ(res.status, 404) << describe(res);
    EXPECT_EQ(res.error_code(), "not_found");
  }
  EXPECT_EQ(alice->get("/api/v1/tokens").json()["tokens"].size(), 0u);
  EXPECT_FALSE(introspect(server, code).json()["active"].boolean());
}

TEST_F(TokensE2E, GroupGateAndOwnership) {
  const std::string id = create_token(*alice, "alice's", 15)["id"].str();
  HttpClient bob = login(server, "bob");
  for (const Response& res : {bob.get("/api/v1/tokens"), bob.post("/api/v1/tokens", token_body("x", 1)),
                              bob.get("/api/v1/tokens/" + id), bob.post("/api/v1/tokens/" + id + "/reveal")}) {
    EXPECT_EQ(res.status, 403) << describe(res);
    EXPECT_EQ(res.error_code(), "forbidden");
  }
  HttpClient anonymous = server.client();
  for (const Response& res : {anonymous.get("/api/v1/tokens"), anonymous.post("/api/v1/tokens", token_body("x", 1)),
                              anonymous.del("/api/v1/tokens/" + id)}) {
    EXPECT_EQ(res.status, 401) << describe(res);
    EXPECT_EQ(res.error_code(), "unauthenticated");
  }

  const std::int64_t events = audit_event_count(*alice);
  HttpClient carol = login(server, "carol");
  const std::string path = "/api/v1/tokens/" + id;
  for (const Response& res : {carol.get(path), carol.patch(path, R"({"description":"mine now"})"),
                              carol.post(path + "/reveal"), carol.del(path), carol.get(path + "/history")}) {
    EXPECT_EQ(res.status, 404) << "someone else's token must look absent: " << describe(res);
    EXPECT_EQ(res.error_code(), "not_found");
    EXPECT_EQ(res.body.find("alice"), std::string::npos);
  }
  EXPECT_EQ(carol.get("/api/v1/tokens").json()["tokens"].size(), 0u);
  EXPECT_EQ(audit_event_count(*alice), events);
  const Json t = alice->get(path).json();
  EXPECT_EQ(t["description"].str(), "alice's");
  EXPECT_EQ(t["version"].integer(), 1);
}

TEST_F(TokensE2E, ExpiredTokenRefusesEditsButRevealsAndDeletes) {
  if (faketime_library().empty()) GTEST_SKIP() << "faketime (/usr/bin/faketime and libfaketime) is not installed";
  const std::string short_id = create_token(*alice, "one day", 1)["id"].str();
  const Json long_token = create_token(*alice, "two weeks", 15);
  const std::string long_id = long_token["id"].str();
  const std::string code = reveal(*alice, short_id);
  const std::string long_code = reveal(*alice, long_id);
  ASSERT_TRUE(introspect(server, code).json()["active"].boolean());

  ASSERT_EQ(server.restart({.fake_time = "+2d"}), 0) << server.log();
  HttpClient a = login(server, "alice");  // sessions live in memory
  const std::string path = "/api/v1/tokens/" + short_id;
  const Response shown = a.get(path);
  ASSERT_EQ(shown.status, 200) << describe(shown);
  EXPECT_TRUE(shown.json()["expired"].boolean()) << shown.body;
  EXPECT_FALSE(a.get("/api/v1/tokens/" + long_id).json()["expired"].boolean());

  const std::int64_t events = audit_event_count(a);
  const std::string current = shown.header("ETag");  // a matching If-Match does not help either
  for (const Response& res : {a.patch(path, R"({"description":"too late"})"),
                              a.patch(path, R"({"timeout":{"value":30,"unit":"days"}})", {{"If-Match", current}})}) {
    EXPECT_EQ(res.status, 409) << describe(res);
    EXPECT_EQ(res.error_code(), "token_expired");
  }
  EXPECT_EQ(audit_event_count(a), events);
  EXPECT_EQ(reveal(a, short_id), code) << "an expired token can still be revealed";
  EXPECT_FALSE(introspect(server, code).json()["active"].boolean());
  EXPECT_FALSE(introspect(server, code, false).json()["active"].boolean());
  HttpClient bearer = server.client();
  EXPECT_EQ(bearer.get("/api/v1/tokens", {{"Authorization", "Bearer " + code}}).status, 401);

  // A timeout that would already have ended is refused; a longer one is accepted.
  const Response ended = a.patch("/api/v1/tokens/" + long_id, R"({"timeout":{"value":1,"unit":"days"}})");
  EXPECT_EQ(ended.status, 400) << describe(ended);
  EXPECT_EQ(ended.error_code(), "invalid_field");
  const Response longer = a.patch("/api/v1/tokens/" + long_id, R"({"timeout":{"value":20,"unit":"days"}})");
  EXPECT_EQ(longer.status, 200) << describe(longer);
  EXPECT_TRUE(introspect(server, long_code).json()["active"].boolean());

  EXPECT_EQ(a.del(path).status, 204);
  EXPECT_EQ(a.get(path).status, 404);
  EXPECT_EQ(a.get("/api/v1/tokens").json()["tokens"].size(), 1u);
}

// A misspelt parameter ("ownr") answered 200 with the caller's own tokens, as if it had been
// obeyed. Every API route now refuses a parameter it does not read, naming it and listing those
// it accepts; the probes and the UI's files, which read no query, still ignore one.
TEST_F(TokensE2E, UnknownQueryParametersAreRefusedOnEveryApiRoute) {
  const std::string id = create_token(*alice)["id"].str();
  for (const std::string query : {"?ownr=bob", "?foo=1", "?expiring_within=7d&foo=1"}) {
    const Response res = alice->get("/api/v1/tokens" + query);
    ASSERT_EQ(res.status, 400) << query << ": " << describe(res);
    const std::string message = res.json()["error"]["message"].str();
    EXPECT_NE(message.find(query.find("ownr") != std::string::npos ? "'ownr'" : "'foo'"), std::string::npos) << message;
    EXPECT_NE(message.find("owner, as_of, expiring_within"), std::string::npos) << message;
  }
  for (const std::string& target :
       std::vector<std::string>{"/api/v1/tokens/" + id + "?x=1", "/api/v1/tokens/" + id + "/history?x=1",
                                "/api/v1/me?x=1", "/api/v1/audit/checkpoints?x=1"}) {
    const Response res = alice->get(target);
    ASSERT_EQ(res.status, 400) << target << ": " << describe(res);
    EXPECT_NE(res.json()["error"]["message"].str().find("takes no query parameters"), std::string::npos) << res.body;
  }
  // verify reads one parameter (issue 16: ?full=true) and names it.
  const Response verify = alice->get("/api/v1/audit/verify?x=1");
  ASSERT_EQ(verify.status, 400) << describe(verify);
  EXPECT_NE(verify.json()["error"]["message"].str().find("'x'; this route accepts full"), std::string::npos)
      << verify.body;
  const Response created = alice->post("/api/v1/tokens?description=x", token_body("query", 3));
  EXPECT_EQ(created.status, 400) << describe(created);
  EXPECT_EQ(alice->get("/api/v1/tokens").json()["tokens"].size(), 1u);  // nothing was created
  EXPECT_EQ(alice->get("/api/v1/tokens?expiring_within=30d").status, 200);
  EXPECT_EQ(alice->get("/api/v1/tokens?").status, 200);
  for (const char* target : {"/healthz?probe=1", "/readyz?x", "/?v=2"}) {
    EXPECT_EQ(alice->get(target).status, 200) << target;
  }
}

}  // namespace
}  // namespace e2e
