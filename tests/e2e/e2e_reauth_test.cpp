// Reveal with recent login (--reveal-reauth-minutes): a code is shown through a session only
// when the password was typed within the window; the re-authentication is audited.
#include <fstream>

#include "test_server.hpp"

namespace e2e {
namespace {

void set_clock(const std::string& file, const std::string& offset) {
  std::ofstream out(file, std::ios::trunc);
  out << offset << "\n";
}

TEST(ReauthE2E, RevealAfterTheWindowNeedsThePasswordAgain) {
  if (faketime_library().empty()) GTEST_SKIP() << "faketime is not installed";
  TestServer server;
  const std::string clock = server.data_dir() + "/../clock";
  set_clock(clock, "+0");
  server.start({.extra_args = {"--reveal-reauth-minutes", "5"}, .fake_time_file = clock});
  HttpClient admin = login(server, "admin", kAdminPassword);
  create_user(admin, "alice", {"api-tokens", "auditors"});
  HttpClient alice = login(server, "alice");
  const std::string id = create_token(alice, "needs reauth", 30)["id"].str();
  ASSERT_EQ(alice.post("/api/v1/tokens/" + id + "/reveal").status, 200) << "just signed in";

  set_clock(clock, "+10m");
  const Response refused = alice.post("/api/v1/tokens/" + id + "/reveal");
  EXPECT_EQ(refused.status, 403) << describe(refused);
  EXPECT_EQ(refused.error_code(), "reauthentication_required");

  const Response wrong = alice.post("/api/v1/session/reauth", R"({"password":"not it at all"})");
  EXPECT_EQ(wrong.status, 403) << describe(wrong);
  EXPECT_EQ(alice.post("/api/v1/tokens/" + id + "/reveal").status, 403);

  const Response ok = alice.post("/api/v1/session/reauth", R"({"password":)" + json_str(password_of("alice")) + "}");
  ASSERT_EQ(ok.status, 204) << describe(ok);
  const Response shown = alice.post("/api/v1/tokens/" + id + "/reveal");
  ASSERT_EQ(shown.status, 200) << describe(shown);
  EXPECT_EQ(shown.json()["token"].str().rfind("tlk_", 0), 0u);

  // Audited, once (the wrong password appended nothing).
  const Json events = alice.get("/api/v1/audit?type=UserReauthenticated").json()["events"];
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["actor"]["user"].str(), "alice");

  // An API token is not a session: it cannot reveal at all without the scope tokenledger:manage
  // (no token has it yet), so a leaked code does not skip the password step.
  HttpClient bearer(server.port());
  const Response by_token =
      bearer.post("/api/v1/tokens/" + id + "/reveal", {}, {{"Authorization", "Bearer " + shown.json()["token"].str()}});
  EXPECT_EQ(by_token.status, 403) << describe(by_token);
  EXPECT_EQ(by_token.error_code(), "insufficient_scope");
}

}  // namespace
}  // namespace e2e
