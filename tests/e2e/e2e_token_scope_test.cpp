// End to end: what an API token may do as a bearer (issue 12, case 1, and the auth scheme of
// case 10). A token reads what its owner may read (GET); without the scope tokenledger:manage
// (no token carries scopes yet) it reveals, creates, edits and deletes nothing, and it never
// administers users: 403 insufficient_scope (RFC 6750 §3.1), nothing appended. The scheme name
// "Bearer" is matched case-insensitively (RFC 9110 §11.1), for tokens and for introspection.
#include "test_server.hpp"

namespace e2e {
namespace {

class TokenScopeE2E : public ServerTest {
 protected:
  // How many events of `type` the trail holds (as alice, an auditor, sees it).
  std::size_t count(HttpClient& auditor, const std::string& type) {
    const Response res = auditor.get("/api/v1/audit?limit=1000&type=" + type);
    if (res.status != 200) throw std::runtime_error(describe(res));
    return res.json()["events"].size();
  }
};

TEST_F(TokenScopeE2E, ALeakedCodeRevealsCreatesEditsAndDeletesNothing) {
  HttpClient alice = login(server, "alice");
  const std::string first = create_token(alice, "leaked", 15)["id"].str();
  const std::string second = create_token(alice, "other", 15)["id"].str();
  const Headers leaked = {{"Authorization", "Bearer " + reveal(alice, first)}};
  const char* const kTypes[] = {"TokenRevealed", "TokenCreated", "TokenDescriptionChanged", "TokenTimeoutChanged",
                                "TokenDeleted"};
  std::vector<std::size_t> before;
  for (const char* type : kTypes) before.push_back(count(alice, type));

  HttpClient thief = server.client();
  const std::string patch = R"({"description":"mine now","timeout":{"value":365,"unit":"days"}})";
  const Response refused[] = {
      thief.post("/api/v1/tokens/" + second + "/reveal", {}, leaked),
      thief.post("/api/v1/tokens/" + first + "/reveal", {}, leaked),
      thief.post("/api/v1/tokens", token_body("successor", 365), leaked),
      thief.patch("/api/v1/tokens/" + second, patch, leaked),
      thief.del("/api/v1/tokens/" + second, leaked),
      thief.del("/api/v1/tokens/" + first, leaked),
  };
  for (const Response& res : refused) {
    EXPECT_EQ(res.status, 403) << describe(res);
    EXPECT_EQ(res.error_code(), "insufficient_scope") << describe(res);
    EXPECT_EQ(res.header("www-authenticate"), R"(Bearer error="insufficient_scope", scope="tokenledger:manage")");
    EXPECT_EQ(res.body.find("tlk_"), std::string::npos) << "no code in a refusal";
  }
  for (std::size_t i = 0; i < std::size(kTypes); ++i) {
    EXPECT_EQ(count(alice, kTypes[i]), before[i]) << kTypes[i] << " appended by a refused request";
  }

  // What the owner may read, the token may read.
  EXPECT_EQ(thief.get("/api/v1/tokens/" + second, leaked).status, 200);
  EXPECT_EQ(thief.get("/api/v1/tokens/" + second + "/history", leaked).status, 200);
  EXPECT_EQ(thief.get("/api/v1/audit", leaked).status, 200) << "alice is an auditor";
  EXPECT_EQ(thief.get("/api/v1/me", leaked).json()["user"].str(), "alice");
}

TEST_F(TokenScopeE2E, AnAdminsCodeAdministersNoUsers) {
  create_user(*admin, "root", {"admins", "api-tokens", "auditors"});
  HttpClient root = login(server, "root");
  const Headers leaked = {{"Authorization", "Bearer " + reveal(root, create_token(root, "root's")["id"].str())}};
  const std::size_t users_before = admin->get("/api/v1/users").json()["users"].size();
  const std::size_t changed_before = count(root, "UserGroupsChanged") + count(root, "UserPasswordChanged");

  HttpClient thief = server.client();
  const Response refused[] = {
      thief.get("/api/v1/users", leaked),
      thief.post("/api/v1/users", R"({"username":"mallory","password":"Zq8-vLm3-Pt7x-Rw2k-Hn5","groups":["admins"]})",
                 leaked),
      thief.patch("/api/v1/users/alice", R"({"password":"Zq8-vLm3-Pt7x-Rw2k-Hn5"})", leaked),
      thief.patch("/api/v1/users/bob", R"({"groups":["admins"]})", leaked),
      thief.post("/api/v1/users/carol/revoke-tokens", R"({"reason":"leaked"})", leaked),
      thief.del("/api/v1/users/carol", leaked),
      thief.post("/api/v1/audit/checkpoints", {}, leaked),
      thief.post("/api/v1/session/reauth", R"({"password":"x"})", leaked),
      thief.del("/api/v1/session", leaked),
  };
  for (const Response& res : refused) {
    EXPECT_EQ(res.status, 403) << describe(res);
    EXPECT_EQ(res.error_code(), "insufficient_scope") << describe(res);
    // No scope would let a token do these: the challenge names none.
    EXPECT_EQ(res.header("www-authenticate"), R"(Bearer error="insufficient_scope")") << describe(res);
  }
  EXPECT_EQ(admin->get("/api/v1/users").json()["users"].size(), users_before);
  EXPECT_EQ(count(root, "UserGroupsChanged") + count(root, "UserPasswordChanged"), changed_before);
  EXPECT_EQ(login(server, "alice").get("/api/v1/me").status, 200) << "alice's password is unchanged";
  EXPECT_EQ(thief.get("/api/v1/audit/checkpoints", leaked).status, 200) << "reads stay open to the token";
}

TEST_F(TokenScopeE2E, TheBearerSchemeIsMatchedCaseInsensitively) {
  HttpClient alice = login(server, "alice");
  const std::string code = reveal(alice, create_token(alice)["id"].str());
  HttpClient bot = server.client();
  for (const std::string scheme : {"bearer ", "BEARER ", "BeArEr ", "Bearer   "}) {
    const Response res = bot.get("/api/v1/tokens", {{"Authorization", scheme + code}});
    EXPECT_EQ(res.status, 200) << "[" << scheme << "] " << describe(res);
  }
  for (const std::string wrong : {"Bearerx ", "Bearer", "Bear ", "Basic "}) {
    const Response res = bot.get("/api/v1/tokens", {{"Authorization", wrong + code}});
    EXPECT_EQ(res.status, 401) << "[" << wrong << "] " << describe(res);
  }

  // The introspection credential too.
  HttpClient gateway = server.client();
  for (const std::string scheme : {"bearer ", "BEARER "}) {
    const Response res = gateway.post(
        "/api/v1/introspect", "token=" + code,
        {{"Authorization", scheme + kIntrospectionSecret}, {"Content-Type", "application/x-www-form-urlencoded"}});
    ASSERT_EQ(res.status, 200) << "[" << scheme << "] " << describe(res);
    EXPECT_TRUE(res.json()["active"].boolean()) << res.body;
  }
  const Response wrong = gateway.post("/api/v1/introspect", "token=" + code,
                                      {{"Authorization", std::string("Bearerx ") + kIntrospectionSecret},
                                       {"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(wrong.status, 401) << describe(wrong);
}

}  // namespace
}  // namespace e2e
