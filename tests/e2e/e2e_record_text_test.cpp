// Header text at the boundary: every header value that reaches a record (User-Agent; the client
// address) enters as valid UTF-8, cut on a code-point boundary, so no request can write a record
// that its decoder would refuse and make the log unreadable.
#include "test_server.hpp"

namespace e2e {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

struct Agent {
  std::string sent;
  std::string stored;
};

// Each stored user_agent of `type`, in seq order.
std::vector<std::string> stored_agents(HttpClient& auditor, const std::string& type) {
  const Response res = auditor.get("/api/v1/audit?limit=1000&type=" + type);
  if (res.status != 200) throw std::runtime_error("GET /api/v1/audit: " + describe(res));
  std::vector<std::string> agents;
  const Json events = res.json()["events"];
  for (const Json& e : events.items()) agents.push_back(e["source"]["user_agent"].str());
  return agents;
}

// A reveal and a re-authentication with each User-Agent; what each record holds afterwards.
TEST(RecordTextE2E, UserAgentsEnterTheRecordAsValidUtf8CutOnCharacters) {
  TestServer server;
  server.start({.extra_args = {"--reveal-reauth-minutes", "5"}});
  HttpClient admin = login(server, "admin", kAdminPassword);
  create_user(admin, "alice", {"api-tokens", "auditors"});
  HttpClient alice = login(server, "alice");
  const std::string id = create_token(alice, "agents", 30)["id"].str();

  const std::vector<Agent> agents = {
      {"caf\xE9", "caf" + kReplacement},                        // Latin-1, not UTF-8
      {"a\xC0\xAFz", "a" + kReplacement + kReplacement + "z"},  // an overlong "/": one U+FFFD per byte
      {"\xED\xA0\x80", repeat(kReplacement, 3)},                // a UTF-16 surrogate
      // 600 bytes of 3-byte characters: 512 would cut the 171st in two; 510 is the last boundary.
      {repeat("\xE2\x82\xAC", 200), repeat("\xE2\x82\xAC", 170)},
  };
  const std::string password = R"({"password":)" + json_str(password_of("alice")) + "}";
  for (const Agent& agent : agents) {
    alice.set_user_agent(agent.sent);
    const Response reauth = alice.post("/api/v1/session/reauth", password);
    ASSERT_EQ(reauth.status, 204) << describe(reauth);
    const Response shown = alice.post("/api/v1/tokens/" + id + "/reveal");
    ASSERT_EQ(shown.status, 200) << describe(shown);
  }
  alice.set_user_agent("tokenledger-e2e");

  // A NUL byte is not a field-value character (RFC 9110 §5.5): the request is refused whole
  // and nothing is appended.
  const std::int64_t before = audit_event_count(alice);
  const std::string nul_request = "POST /api/v1/tokens/" + id + "/reveal HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                                  "Cookie: tl_session=" + alice.cookie("tl_session") + "\r\n" +
                                  std::string("User-Agent: a\0b", 15) + "\r\nContent-Length: 0\r\n\r\n";
  const auto refused = HttpClient(server.port()).raw_exchange(nul_request, 1);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].status, 400) << describe(refused[0]);
  EXPECT_EQ(audit_event_count(alice), before) << "the refused request appended nothing";

  auto check = [&](const char* when) {
    for (const char* type : {"UserReauthenticated", "TokenRevealed"}) {
      const std::vector<std::string> stored = stored_agents(alice, type);
      ASSERT_EQ(stored.size(), agents.size()) << when << " " << type;
      for (std::size_t i = 0; i < agents.size(); ++i) {
        EXPECT_EQ(stored[i], agents[i].stored) << when << " " << type << " #" << i;
        EXPECT_LE(stored[i].size(), 512u);
      }
    }
    const Json verified = alice.get("/api/v1/audit/verify").json();
    EXPECT_TRUE(verified["ok"].boolean()) << when;
    const Response exported = alice.get("/api/v1/audit/export?format=jsonl");
    EXPECT_EQ(exported.status, 200) << when;
  };
  check("before the restart");
  ASSERT_EQ(server.restart(), 0);
  alice = login(server, "alice");
  check("after the restart");
}

}  // namespace
}  // namespace e2e
