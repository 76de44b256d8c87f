// End to end: sign-in and sessions, the admin endpoints, CSRF, API tokens as Bearer
// credentials, and introspection for API gateways.
#include <cstdint>

#include "test_server.hpp"

namespace e2e {
namespace {

class IdentityE2E : public ServerTest {};

// A code with the server's shape and a correct checksum (CRC-32 of prefix and body, base62),
// which no token has: it exercises the lookup rather than the checksum check.
std::string well_formed_unknown_code() {
  static constexpr std::string_view kBase62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string code = "tlk_";
  for (int i = 0; i < 32; ++i) code.push_back(kBase62[static_cast<std::size_t>(i * 7 + 3) % 62]);
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : code) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  crc ^= 0xFFFFFFFFu;
  std::string checksum(6, '0');
  for (std::size_t i = 6; i-- > 0; crc /= 62) checksum[i] = kBase62[crc % 62];
  return code + checksum;
}

TEST_F(IdentityE2E, SignInAndMe) {
  HttpClient client = server.client();
  const Response res =
      client.post("/api/v1/session", R"({"username":"alice","password":)" + json_str(password_of("alice")) + "}");
  ASSERT_EQ(res.status, 200) << describe(res);
  EXPECT_EQ(res.json()["user"].str(), "alice");
  EXPECT_EQ(res.json()["groups"].size(), 2u);
  const std::string cookie = res.header("Set-Cookie");
  EXPECT_TRUE(cookie.starts_with("tl_session=")) << cookie;
  for (const char* attribute : {"HttpOnly", "SameSite=Strict", "Path=/"}) {
    EXPECT_NE(cookie.find(attribute), std::string::npos) << attribute << " missing in " << cookie;
  }
  EXPECT_EQ(cookie.find("Secure"), std::string::npos) << "not over TLS";
  EXPECT_EQ(res.body.find(password_of("alice")), std::string::npos);

  const Json me = client.get("/api/v1/me").json();
  EXPECT_EQ(me["user"].str(), "alice");
  ASSERT_EQ(me["groups"].size(), 2u);
  EXPECT_TRUE(me["can_manage_tokens"].boolean());
  EXPECT_TRUE(me["can_audit"].boolean());
  EXPECT_FALSE(me["can_admin"].boolean());

  const Json bob = login(server, "bob").get("/api/v1/me").json();
  EXPECT_EQ(bob["user"].str(), "bob");
  EXPECT_EQ(bob["groups"].size(), 0u);
  EXPECT_FALSE(bob["can_manage_tokens"].boolean());
  EXPECT_FALSE(bob["can_audit"].boolean());
  EXPECT_FALSE(bob["can_admin"].boolean());
  EXPECT_TRUE(admin->get("/api/v1/me").json()["can_admin"].boolean());

  const Response anonymous = server.client().get("/api/v1/me");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.error_code(), "unauthenticated");
  HttpClient forged = server.client();
  forged.set_cookie("tl_session", "not-a-session");
  EXPECT_EQ(forged.get("/api/v1/me").status, 401);
}

TEST_F(IdentityE2E, WrongPasswordsAreRefusedThenRateLimited) {
  HttpClient client = server.client();
  const std::string wrong = R"({"username":"carol","password":"not-her-password"})";
  const Response unknown = client.post("/api/v1/session", R"({"username":"nobody","password":"whatever-1"})");
  EXPECT_EQ(unknown.status, 401) << describe(unknown);
  for (int attempt = 1; attempt <= 5; ++attempt) {
    const Response res = client.post("/api/v1/session", wrong);
    EXPECT_EQ(res.status, 401) << "attempt " << attempt << ": " << describe(res);
    EXPECT_EQ(res.error_code(), "unauthenticated");
    EXPECT_TRUE(res.header("Set-Cookie").empty());
  }
  const Response limited = client.post("/api/v1/session", wrong);
  EXPECT_EQ(limited.status, 429) << describe(limited);
  EXPECT_EQ(limited.error_code(), "rate_limited");
  EXPECT_FALSE(limited.header("Retry-After").empty());
  const Response right_but_limited =
      client.post("/api/v1/session", R"({"username":"carol","password":)" + json_str(password_of("carol")) + "}");
  EXPECT_EQ(right_but_limited.status, 429) << "the limit holds even for the right password";
  EXPECT_NO_THROW(login(server, "alice")) << "another user is not locked out";
}

TEST_F(IdentityE2E, SignOutEndsTheSession) {
  HttpClient alice = login(server, "alice");
  const std::string session = alice.cookie("tl_session");
  ASSERT_EQ(alice.get("/api/v1/me").status, 200);
  const Response out = alice.del("/api/v1/session");
  EXPECT_EQ(out.status, 204) << describe(out);
  EXPECT_TRUE(alice.cookie("tl_session").empty()) << "the cookie is cleared";
  alice.set_cookie("tl_session", session);  // replaying the old cookie does not help
  EXPECT_EQ(alice.get("/api/v1/me").status, 401);
  EXPECT_EQ(alice.get("/api/v1/tokens").status, 401);
}

TEST_F(IdentityE2E, PasswordChangeEndsSessions) {
  HttpClient first = login(server, "alice");
  HttpClient second = login(server, "alice");
  const Response changed = admin->patch("/api/v1/users/alice", R"({"password":"brand-new-password-42"})");
  ASSERT_EQ(changed.status, 200) << describe(changed);
  EXPECT_EQ(changed.body.find("brand-new-password-42"), std::string::npos);
  EXPECT_EQ(first.get("/api/v1/me").status, 401);
  EXPECT_EQ(second.get("/api/v1/me").status, 401);
  EXPECT_EQ(admin->get("/api/v1/me").status, 200) << "other users keep their sessions";
  EXPECT_THROW(login(server, "alice"), std::runtime_error) << "the old password no longer works";
  EXPECT_NO_THROW(login(server, "alice", "brand-new-password-42"));
  const Response short_password = admin->patch("/api/v1/users/alice", R"({"password":"short"})");
  EXPECT_EQ(short_password.status, 400) << describe(short_password);
}

TEST_F(IdentityE2E, AdminEndpointsAreForAdminsOnly) {
  HttpClient alice = login(server, "alice");
  HttpClient bob = login(server, "bob");
  for (HttpClient* c : {&alice, &bob}) {
    for (const Response& res :
         {c->get("/api/v1/users"), c->post("/api/v1/users", R"({"username":"eve","password":"long-enough-1"})"),
          c->patch("/api/v1/users/bob", R"({"groups":["admins"]})"), c->del("/api/v1/users/carol")}) {
      EXPECT_EQ(res.status, 403) << describe(res);
      EXPECT_EQ(res.error_code(), "forbidden");
    }
  }
  EXPECT_EQ(server.client().get("/api/v1/users").status, 401);
  EXPECT_EQ(bob.get("/api/v1/me").json()["can_admin"].boolean(), false) << "bob did not become an admin";

  const Response users = admin->get("/api/v1/users");
  ASSERT_EQ(users.status, 200) << describe(users);
  EXPECT_EQ(users.json()["users"].size(), 4u) << users.body;
  EXPECT_EQ(users.body.find("pw-"), std::string::npos) << "no passwords in the user list";
  EXPECT_EQ(users.body.find("argon2"), std::string::npos) << "no password hashes in the user list";
  const Response duplicate = admin->post("/api/v1/users", R"({"username":"bob","password":"long-enough-1"})");
  EXPECT_EQ(duplicate.status, 409) << describe(duplicate);
  const Response bad_group =
      admin->post("/api/v1/users", R"({"username":"eve","password":"long-enough-1","groups":["root"]})");
  EXPECT_EQ(bad_group.status, 400) << describe(bad_group);

  // Membership changes apply to live sessions at once and are audited.
  ASSERT_EQ(bob.get("/api/v1/tokens").status, 403);
  const Response promoted = admin->patch("/api/v1/users/bob", R"({"groups":["api-tokens"]})");
  ASSERT_EQ(promoted.status, 200) << describe(promoted);
  EXPECT_EQ(bob.get("/api/v1/tokens").status, 200);
  const Json changes = alice.get("/api/v1/audit?type=UserGroupsChanged").json()["events"];
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0]["actor"]["user"].str(), "admin");
  EXPECT_NE(changes[0]["stream"].str().find("bob"), std::string::npos);

  const Response removed = admin->del("/api/v1/users/bob");
  EXPECT_EQ(removed.status, 204) << describe(removed);
  EXPECT_EQ(bob.get("/api/v1/me").status, 401) << "a deleted user's sessions end";
  EXPECT_THROW(login(server, "bob"), std::runtime_error);
  EXPECT_EQ(admin->del("/api/v1/users/bob").status, 404);
}

// API.md: "A request that fails changes nothing: no event is appended for it."
TEST_F(IdentityE2E, FailedUserChangeChangesNothing) {
  HttpClient carol = login(server, "carol");
  HttpClient alice = login(server, "alice");
  const std::int64_t events = audit_event_count(alice);
  const Response res =
      admin->patch("/api/v1/users/carol", R"({"password":"replacement-pw-77","groups":["no-such-group"]})");
  EXPECT_EQ(res.status, 400) << describe(res);
  EXPECT_EQ(audit_event_count(alice), events) << "a refused user change appended an event";
  EXPECT_EQ(carol.get("/api/v1/me").status, 200) << "a refused user change ended the user's sessions";
  EXPECT_NO_THROW(login(server, "carol")) << "a refused user change replaced the password";
}

// Deleting a user must not leave API tokens that come back to life when the name is reused.
TEST_F(IdentityE2E, RecreatedUserDoesNotInheritOldTokens) {
  HttpClient carol = login(server, "carol");
  const std::string id = create_token(carol, "old carol's", 15)["id"].str();
  const std::string code = reveal(carol, id);
  ASSERT_EQ(admin->del("/api/v1/users/carol").status, 204);
  ASSERT_EQ(introspect(server, code).body, R"({"active":false})");
  create_user(*admin, "carol", {"api-tokens"});  // a new person who got the same name
  EXPECT_EQ(introspect(server, code).body, R"({"active":false})") << "the deleted user's token is active again";
  EXPECT_EQ(server.client().get("/api/v1/tokens", {{"Authorization", "Bearer " + code}}).status, 401);
  HttpClient new_carol = login(server, "carol");
  EXPECT_EQ(new_carol.get("/api/v1/tokens").json()["tokens"].size(), 0u) << "the new user sees the old user's tokens";
}

TEST_F(IdentityE2E, CrossSiteRequestsAreRefused) {
  HttpClient alice = login(server, "alice");
  const std::string id = create_token(alice, "kept", 15)["id"].str();
  const std::int64_t events = audit_event_count(alice);
  const Headers evil = {{"Origin", "http://evil.example"}};
  const std::string path = "/api/v1/tokens/" + id;
  for (const Response& res :
       {alice.post("/api/v1/tokens", token_body("csrf", 15), evil), alice.patch(path, R"({"description":"x"})", evil),
        alice.del(path, evil), alice.post(path + "/reveal", {}, evil),
        alice.post("/api/v1/tokens", token_body("csrf", 15), {{"Sec-Fetch-Site", "cross-site"}}),
        alice.post("/api/v1/tokens", token_body("csrf", 15), {{"Origin", "http://127.0.0.1:1"}}),
        alice.post("/api/v1/tokens", token_body("csrf", 15), {{"Origin", "null"}}), alice.del("/api/v1/session", evil),
        server.client().post("/api/v1/session",
                             R"({"username":"alice","password":)" + json_str(password_of("alice")) + "}", evil)}) {
    EXPECT_EQ(res.status, 403) << describe(res);
    EXPECT_EQ(res.error_code(), "csrf") << describe(res);
    EXPECT_EQ(res.body.find("tlk_"), std::string::npos);
  }
  EXPECT_EQ(audit_event_count(alice), events) << "nothing appended";
  ASSERT_EQ(alice.get("/api/v1/me").status, 200) << "the session survived the cross-site sign-out";
  const Json tokens = alice.get("/api/v1/tokens").json()["tokens"];
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0]["version"].integer(), 1);

  const Response same_origin =
      alice.post("/api/v1/tokens", token_body("same origin", 15), {{"Origin", server.origin()}});
  EXPECT_EQ(same_origin.status, 201) << describe(same_origin);
  const Response no_origin = alice.post("/api/v1/tokens", token_body("script", 15));
  EXPECT_EQ(no_origin.status, 201) << describe(no_origin);
  EXPECT_EQ(alice.get("/api/v1/tokens", evil).status, 200) << "safe methods are not refused";
}

TEST_F(IdentityE2E, BearerTokenReadsAsItsOwnerAndWritesNothing) {
  HttpClient alice = login(server, "alice");
  const std::string id = create_token(alice, "automation", 15)["id"].str();
  const std::string code = reveal(alice, id);
  HttpClient bot = server.client();
  const Headers bearer = {{"Authorization", "Bearer " + code}};
  const Response list = bot.get("/api/v1/tokens", bearer);
  ASSERT_EQ(list.status, 200) << describe(list);
  ASSERT_EQ(list.json()["tokens"].size(), 1u);
  EXPECT_EQ(list.json()["tokens"][0]["id"].str(), id);
  EXPECT_EQ(bot.get("/api/v1/me", bearer).json()["user"].str(), "alice");
  EXPECT_TRUE(bot.cookie("tl_session").empty()) << "no session is made for a Bearer token";
  const Json used = alice.get("/api/v1/tokens/" + id).json();
  ASSERT_TRUE(used["last_used_at"].is_string()) << "a use shows at once";
  EXPECT_LE(unix_ms(used["created_at"].str()), unix_ms(used["last_used_at"].str()));

  // Without the scope tokenledger:manage (no token has scopes yet) a token writes nothing.
  const auto created = [&] { return alice.get("/api/v1/audit?type=TokenCreated").json()["events"].size(); };
  const std::size_t before = created();
  const Response made = bot.post("/api/v1/tokens", token_body("made by the bot", 5), bearer);
  EXPECT_EQ(made.status, 403) << describe(made);
  EXPECT_EQ(made.error_code(), "insufficient_scope");
  EXPECT_EQ(made.header("www-authenticate"), R"(Bearer error="insufficient_scope", scope="tokenledger:manage")");
  EXPECT_EQ(created(), before) << "a refused write appends nothing";

  EXPECT_EQ(bot.get("/api/v1/audit", bearer).status, 200) << "alice is an auditor, and so is her token";
  std::string flipped = code;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  for (const std::string& wrong : {flipped, std::string("garbage"), std::string{}}) {
    EXPECT_EQ(bot.get("/api/v1/tokens", {{"Authorization", "Bearer " + wrong}}).status, 401) << wrong;
  }
  EXPECT_EQ(bot.get("/api/v1/tokens", {{"Authorization", "Basic YWxpY2U6eA=="}}).status, 401);

  ASSERT_EQ(alice.del("/api/v1/tokens/" + id).status, 204);
  const Response after = bot.get("/api/v1/tokens", bearer);
  EXPECT_EQ(after.status, 401) << "a deleted token stops authenticating at once: " << describe(after);
  EXPECT_EQ(after.error_code(), "unauthenticated");
}

TEST_F(IdentityE2E, IntrospectionForGateways) {
  HttpClient alice = login(server, "alice");
  const Json token = create_token(alice, "gateway", 15);
  const std::string id = token["id"].str();
  const std::string code = reveal(alice, id);
  for (bool form : {true, false}) {
    const Response res = introspect(server, code, form);
    ASSERT_EQ(res.status, 200) << describe(res);
    const Json j = res.json();
    EXPECT_TRUE(j["active"].boolean()) << res.body;
    EXPECT_EQ(j["sub"].str(), "alice");
    EXPECT_EQ(j["token_id"].str(), id);
    EXPECT_EQ(j["iat"].integer(), unix_ms(token["created_at"].str()) / 1000);
    EXPECT_EQ(j["exp"].integer(), unix_ms(token["expires_at"].str()) / 1000);
    EXPECT_EQ(j["exp"].integer() - j["iat"].integer(), 15 * 86400);
  }

  std::string flipped = code;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  const std::string inactive[] = {flipped, well_formed_unknown_code(),     "garbage", "", code + "x",
                                  "tlk_",  code.substr(0, code.size() - 1)};
  for (const std::string& candidate : inactive) {
    for (bool form : {true, false}) {
      const Response res = introspect(server, candidate, form);
      EXPECT_EQ(res.status, 200) << candidate << ": " << describe(res);
      EXPECT_EQ(res.body, R"({"active":false})") << candidate;
    }
  }

  // The service credential is required; a user's API token is not one.
  for (const std::string& secret : {std::string{}, std::string("wrong-secret"), code}) {
    const Response res = introspect(server, code, true, secret);
    EXPECT_EQ(res.status, 401) << "credential [" << secret << "]: " << describe(res);
    EXPECT_EQ(res.error_code(), "unauthenticated");
    EXPECT_EQ(res.body.find("alice"), std::string::npos);
  }
  HttpClient gateway = server.client();
  const std::string auth = std::string("Bearer ") + kIntrospectionSecret;
  const Response plain =
      gateway.post("/api/v1/introspect", code, {{"Authorization", auth}, {"Content-Type", "text/plain"}});
  EXPECT_EQ(plain.status, 415) << describe(plain);
  const Response missing = gateway.post("/api/v1/introspect", R"({"hint":"x"})", {{"Authorization", auth}});
  EXPECT_EQ(missing.status, 400) << describe(missing);

  ASSERT_EQ(alice.del("/api/v1/tokens/" + id).status, 204);
  EXPECT_EQ(introspect(server, code).body, R"({"active":false})") << "deleted";

  // A token of a deleted user stops being active.
  HttpClient carol = login(server, "carol");
  const std::string carol_code = reveal(carol, create_token(carol, "carol's", 15)["id"].str());
  ASSERT_TRUE(introspect(server, carol_code).json()["active"].boolean());
  ASSERT_EQ(admin->del("/api/v1/users/carol").status, 204);
  EXPECT_EQ(introspect(server, carol_code).body, R"({"active":false})");
}

// The revocation's reason is stored in every TokenDeleted: it follows the description's rules
// (no control characters, not blank; at most 500 characters since issue 12), refused by name with
// nothing appended.
TEST_F(IdentityE2E, RevokeReasonFollowsTheTextRules) {
  HttpClient alice = login(server, "alice");
  create_token(alice, "to revoke");
  const std::int64_t before = audit_event_count(alice);
  const std::string too_long(501, 'r');
  for (const std::string& reason :
       {std::string(R"(left\u0000)"), std::string(R"(ding\u0007)"), std::string(R"(\u202eevil)"), std::string(700, 'x'),
        too_long, std::string("   ")}) {
    for (const char* user : {"alice", "bob"}) {  // bob holds no token: the same answer
      const Response res =
          admin->post(std::string("/api/v1/users/") + user + "/revoke-tokens", R"({"reason":")" + reason + R"("})");
      ASSERT_EQ(res.status, 400) << reason.substr(0, 20) << ": " << describe(res);
      EXPECT_TRUE(res.json()["error"]["message"].str().starts_with("reason:")) << res.body;
    }
  }
  EXPECT_EQ(audit_event_count(alice), before);
  const Response ok =
      admin->post("/api/v1/users/alice/revoke-tokens", R"({"reason":")" + std::string(200, 'r') + R"("})");
  ASSERT_EQ(ok.status, 200) << describe(ok);
  EXPECT_EQ(ok.json()["revoked"].integer(), 1);
}

}  // namespace
}  // namespace e2e
