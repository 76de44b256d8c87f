// Password rules on every way a password is set, PATCH /api/v1/me/password, and must_change.
#include "test_server.hpp"

namespace e2e {
namespace {

class PasswordsE2E : public ServerTest {};

std::string change_body(const std::string& current, const std::string& next) {
  return R"({"current":)" + json_str(current) + R"(,"new":)" + json_str(next) + "}";
}

TEST_F(PasswordsE2E, ShortOrCommonPasswordsAreRefusedNamingTheRule) {
  const Response short_pw = admin->post("/api/v1/users", R"({"username":"dora","password":"eleven-char"})");
  EXPECT_EQ(short_pw.status, 400) << describe(short_pw);
  EXPECT_EQ(short_pw.error_code(), "invalid_field");
  EXPECT_NE(short_pw.body.find("password: at least 12 characters"), std::string::npos) << short_pw.body;
  const Response common = admin->post("/api/v1/users", R"({"username":"dora","password":"administrator"})");
  EXPECT_EQ(common.status, 400) << describe(common);
  EXPECT_NE(common.body.find("password: it is in a list of common passwords"), std::string::npos) << common.body;
  EXPECT_EQ(admin->get("/api/v1/users").body.find("dora"), std::string::npos) << "nothing was created";

  const Response patched = admin->patch("/api/v1/users/alice", R"({"password":"unbelievable"})");
  EXPECT_EQ(patched.status, 400) << describe(patched);
  EXPECT_NE(patched.body.find("common passwords"), std::string::npos) << patched.body;
  EXPECT_NO_THROW(login(server, "alice")) << "the old password still works";
}

TEST_F(PasswordsE2E, UsersChangeTheirOwnPassword) {
  HttpClient alice = login(server, "alice");
  HttpClient other_device = login(server, "alice");
  const std::string next = "alice-chose-this-one-7";

  const Response wrong = alice.patch("/api/v1/me/password", change_body("not-her-password-1", next));
  EXPECT_EQ(wrong.status, 403) << describe(wrong);
  EXPECT_EQ(wrong.error_code(), "reauthentication_required");
  const Response weak = alice.patch("/api/v1/me/password", change_body(password_of("alice"), "short-one"));
  EXPECT_EQ(weak.status, 400) << describe(weak);
  EXPECT_NE(weak.body.find("new: at least 12 characters"), std::string::npos) << weak.body;

  const Response ok = alice.patch("/api/v1/me/password", change_body(password_of("alice"), next));
  ASSERT_EQ(ok.status, 204) << describe(ok);
  EXPECT_EQ(alice.get("/api/v1/me").status, 200) << "this session stays";
  EXPECT_EQ(other_device.get("/api/v1/me").status, 401) << "her other sessions end";
  EXPECT_THROW(login(server, "alice"), std::runtime_error) << "the old password no longer works";
  EXPECT_NO_THROW(login(server, "alice", next));

  const Json events = alice.get("/api/v1/audit?type=UserPasswordChanged").json()["events"];
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["actor"]["user"].str(), "alice");
  EXPECT_EQ(events[0]["stream"].str(), "user:alice");
}

TEST_F(PasswordsE2E, WrongCurrentPasswordsAreThrottled) {
  HttpClient alice = login(server, "alice");
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(alice.patch("/api/v1/me/password", change_body("not-her-password-1", "alice-chose-this-one-7")).status,
              403);
  }
  const Response refused =
      alice.patch("/api/v1/me/password", change_body(password_of("alice"), "alice-chose-this-one-7"));
  EXPECT_EQ(refused.status, 429) << describe(refused);
  EXPECT_FALSE(refused.header("retry-after").empty());
}

TEST_F(PasswordsE2E, AnApiTokenCannotChangeThePassword) {
  HttpClient alice = login(server, "alice");
  const std::string code = reveal(alice, create_token(alice)["id"].str());
  HttpClient bearer(server.port());
  const Response res = bearer.patch("/api/v1/me/password", change_body(password_of("alice"), "alice-chose-this-one-7"),
                                    {{"Authorization", "Bearer " + code}});
  EXPECT_EQ(res.status, 403) << describe(res);
  EXPECT_NO_THROW(login(server, "alice")) << "unchanged";
}

TEST_F(PasswordsE2E, MustChangeAllowsOnlyThePasswordChangeUntilDone) {
  const Response created =
      admin->post("/api/v1/users",
                  R"({"username":"dora","password":"temporary-pass-42","groups":["api-tokens"],"must_change":true})");
  ASSERT_EQ(created.status, 201) << describe(created);
  HttpClient dora = login(server, "dora", "temporary-pass-42");
  const Response me = dora.get("/api/v1/me");
  ASSERT_EQ(me.status, 200) << describe(me);
  EXPECT_TRUE(me.json()["must_change_password"].boolean());
  const Response listed = dora.get("/api/v1/tokens");
  EXPECT_EQ(listed.status, 403) << describe(listed);
  EXPECT_EQ(listed.error_code(), "password_change_required");
  EXPECT_EQ(dora.post("/api/v1/tokens", token_body("x", 5)).error_code(), "password_change_required");

  // Keeping the password the admin chose is no change: refused, the requirement stays.
  const auto same = dora.patch("/api/v1/me/password", change_body("temporary-pass-42", "temporary-pass-42"));
  EXPECT_EQ(same.status, 400) << same.body;
  EXPECT_NE(same.body.find("new: must differ from the current password"), std::string::npos) << same.body;
  EXPECT_EQ(dora.get("/api/v1/tokens").status, 403) << "still password_change_required";
  ASSERT_EQ(dora.patch("/api/v1/me/password", change_body("temporary-pass-42", "dora-own-secret-9")).status, 204);
  EXPECT_FALSE(dora.get("/api/v1/me").json()["must_change_password"].boolean());
  EXPECT_EQ(dora.get("/api/v1/tokens").status, 200);

  // An admin's reset may ask again; signing out stays possible.
  ASSERT_EQ(admin->patch("/api/v1/users/alice", R"({"password":"reset-by-admin-77","must_change":true})").status, 200);
  HttpClient alice = login(server, "alice", "reset-by-admin-77");
  EXPECT_EQ(alice.get("/api/v1/tokens").error_code(), "password_change_required");
  EXPECT_EQ(alice.del("/api/v1/session").status, 204);
  // Opt-in: a reset without must_change asks nothing.
  ASSERT_EQ(admin->patch("/api/v1/users/carol", R"({"password":"reset-by-admin-78"})").status, 200);
  EXPECT_EQ(login(server, "carol", "reset-by-admin-78").get("/api/v1/tokens").status, 200);
  const Response lonely = admin->patch("/api/v1/users/carol", R"({"must_change":true})");
  EXPECT_EQ(lonely.status, 400) << describe(lonely);
}

TEST(PasswordsBootstrapE2E, AWeakAdminPasswordFailsTheStartNamingTheRule) {
  TestServer server;
  EXPECT_ANY_THROW(server.start({.prefix = {"env", "TOKENLEDGER_ADMIN_PASSWORD=short-pw"}}));
  EXPECT_NE(server.log().find("at least 12 characters"), std::string::npos) << server.log();
  EXPECT_NE(server.log().find("TOKENLEDGER_ADMIN_PASSWORD"), std::string::npos) << server.log();
}

}  // namespace
}  // namespace e2e
