// Issue 12, case 10, through the real server: free text under one rule (domain/text_rules.hpp),
// user names compared case-folded, and a repeated introspection parameter refused.
#include "test_server.hpp"

namespace e2e {
namespace {

class InputRulesTest : public ServerTest {};

std::string error_message(const Response& res) { return res.json()["error"]["message"].str(); }

TEST_F(InputRulesTest, InvisibleOrBlankDescriptionsAreRefusedNamingTheCharacter) {
  HttpClient alice = login(server, "alice");
  const std::int64_t before = audit_event_count(alice);
  Response blank = alice.post("/api/v1/tokens", token_body("\u3000\u3000", 15));
  EXPECT_EQ(blank.status, 400) << describe(blank);
  EXPECT_EQ(blank.error_code(), "invalid_field");
  Response zwsp = alice.post("/api/v1/tokens", token_body("pay\u200broll", 15));
  EXPECT_EQ(zwsp.status, 400) << describe(zwsp);
  EXPECT_EQ(error_message(zwsp), "description: holds U+200B ZERO WIDTH SPACE (an invisible character).");
  Response bidi = alice.post("/api/v1/tokens", token_body("invoice\u202Etxt.exe", 15));
  EXPECT_EQ(bidi.status, 400) << describe(bidi);
  EXPECT_NE(error_message(bidi).find("U+202E RIGHT-TO-LEFT OVERRIDE"), std::string::npos) << describe(bidi);
  EXPECT_EQ(audit_event_count(alice), before) << "a refused request appends nothing";
  // Trimmed of Unicode white space and stored in NFC.
  const Json token = create_token(alice, "\u3000cafe\u0301\u00A0");
  EXPECT_EQ(token["description"].str(), "caf\u00E9");
}

TEST_F(InputRulesTest, ALongReasonWithControlCharactersIsRefused) {
  HttpClient alice = login(server, "alice");
  create_token(alice, "CI");
  std::string reason = "left\r\n\x1b[2J\u202E";
  reason += std::string(50 * 1024, 'x');
  Response res = admin->post("/api/v1/users/alice/revoke-tokens", R"({"reason":)" + json_str(reason) + "}");
  EXPECT_EQ(res.status, 400) << describe(res);
  EXPECT_NE(error_message(res).find("reason: holds U+000D CARRIAGE RETURN"), std::string::npos) << describe(res);
  res = admin->post("/api/v1/users/alice/revoke-tokens", R"({"reason":)" + json_str(std::string(501, 'x')) + "}");
  EXPECT_EQ(res.status, 400) << describe(res);
  EXPECT_EQ(error_message(res), "reason: at most 500 characters.");
  res = admin->post("/api/v1/users/alice/revoke-tokens", R"({"reason":)" + json_str(std::string(500, 'x')) + "}");
  EXPECT_EQ(res.status, 200) << describe(res);
}

TEST_F(InputRulesTest, UserNamesAreComparedCaseFolded) {
  Response again = admin->post(
      "/api/v1/users", R"({"username":"Alice","password":)" + json_str(password_of("alice2")) + R"(,"groups":[]})");
  EXPECT_EQ(again.status, 409) << describe(again);
  EXPECT_EQ(again.error_code(), "conflict");
  // Sign-in and the admin's routes find the stored (folded) name.
  HttpClient shouting = login(server, "ALICE", password_of("alice"));
  EXPECT_EQ(shouting.get("/api/v1/me").json()["user"].str(), "alice");
  Response patched = admin->patch("/api/v1/users/CAROL", R"({"groups":["api-tokens","auditors"]})");
  EXPECT_EQ(patched.status, 200) << describe(patched);
  EXPECT_EQ(patched.json()["username"].str(), "carol");
  // A new name is stored folded.
  Response created = admin->post(
      "/api/v1/users", R"({"username":"Dave","password":)" + json_str(password_of("dave")) + R"(,"groups":[]})");
  EXPECT_EQ(created.status, 201) << describe(created);
  EXPECT_EQ(created.json()["username"].str(), "dave");
  Response invisible = admin->post(
      "/api/v1/users", R"({"username":"er\u200bin","password":)" + json_str(password_of("erin")) + R"(,"groups":[]})");
  EXPECT_EQ(invisible.status, 400) << describe(invisible);
  EXPECT_EQ(error_message(invisible), "username: holds U+200B ZERO WIDTH SPACE (an invisible character).");
}

TEST_F(InputRulesTest, ARepeatedTokenParameterIsRefusedAsTheJsonTwinIs) {
  HttpClient alice = login(server, "alice");
  const std::string code = reveal(alice, create_token(alice, "CI")["id"].str());
  HttpClient client = server.client();
  const Headers headers{{"Authorization", std::string("Bearer ") + kIntrospectionSecret},
                        {"Content-Type", "application/x-www-form-urlencoded"}};
  Response twice = client.post("/api/v1/introspect", "token=" + code + "&token=junk", headers);
  EXPECT_EQ(twice.status, 400) << describe(twice);
  EXPECT_EQ(twice.error_code(), "invalid_field");
  EXPECT_NE(twice.header("content-type").find("application/json"), std::string::npos);
  EXPECT_EQ(error_message(twice), "token: given more than once.");
  EXPECT_EQ(introspect(server, code).status, 200);
}

}  // namespace
}  // namespace e2e
