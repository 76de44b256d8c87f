// Issue 12, case 10: what auditors and owners read of the trail (/api/v1/audit, /audit/stream,
// /tokens/{id}/history) carries no code's ciphertext or lookup hash, and every token event
// names the token's description as it stood then; the export keeps the stored records whole.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_server.hpp"

namespace e2e {
namespace {

// The text GET /api/v1/audit/stream sends until `until` appears or `limit` passes.
std::string read_stream_until(unsigned short port, const std::string& cookie, const std::string& until,
                              std::chrono::seconds limit) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect");
  timeval tv{0, 200000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string req =
      "GET /api/v1/audit/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
      "Cookie: tl_session=" +
      cookie + "\r\n\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string received;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (received.find(until) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    char buf[8192];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n > 0) received.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return received;
}

class AuditViewTest : public ServerTest {
 protected:
  // alice's token: created "first", revealed, renamed "second", revealed, deleted.
  void SetUp() override {
    ServerTest::SetUp();
    alice.emplace(login(server, "alice"));
    id = create_token(*alice, "first")["id"].str();
    reveal(*alice, id);
    ASSERT_EQ(alice->patch("/api/v1/tokens/" + id, R"({"description":"second"})").status, 200);
    reveal(*alice, id);
    ASSERT_EQ(alice->del("/api/v1/tokens/" + id).status, 204);
  }
  std::optional<HttpClient> alice;
  std::string id;
};

std::vector<std::pair<std::string, std::string>> types_and_descriptions(const Json& events) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Json& e : events.items()) {
    out.emplace_back(e["type"].str(), e.has("token_description") ? e["token_description"].str() : "(none)");
  }
  return out;
}

TEST_F(AuditViewTest, TheAuditHasNoCodeSecretsAndNamesEachEventsDescription) {
  const Response res = alice->get("/api/v1/audit?token_id=" + id);
  ASSERT_EQ(res.status, 200) << describe(res);
  EXPECT_EQ(res.body.find("code_lookup"), std::string::npos) << res.body;
  EXPECT_EQ(res.body.find("code_sealed"), std::string::npos) << res.body;
  const Json events = res.json()["events"];
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(types_and_descriptions(events), (std::vector<P>{{"TokenCreated", "first"},
                                                            {"TokenRevealed", "first"},
                                                            {"TokenDescriptionChanged", "second"},
                                                            {"TokenRevealed", "second"},
                                                            {"TokenDeleted", "second"}}));
  EXPECT_EQ(events[0]["data"]["description"].str(), "first");
  EXPECT_EQ(events[0]["data"]["timeout"]["value"].integer(), 15);
  // A filter that leaves out the rename still names the description each event saw.
  const Json reveals = alice->get("/api/v1/audit?token_id=" + id + "&type=TokenRevealed").json()["events"];
  EXPECT_EQ(types_and_descriptions(reveals), (std::vector<P>{{"TokenRevealed", "first"}, {"TokenRevealed", "second"}}));
  // Events that are not a token's have none.
  const Json users = alice->get("/api/v1/audit?type=UserCreated").json()["events"];
  ASSERT_GT(users.size(), 0u);
  EXPECT_FALSE(users[0].has("token_description"));
}

TEST_F(AuditViewTest, ATokensHistoryHasNoCodeSecrets) {
  const std::string live = create_token(*alice, "live one")["id"].str();
  reveal(*alice, live);
  const Response res = alice->get("/api/v1/tokens/" + live + "/history");
  ASSERT_EQ(res.status, 200) << describe(res);
  EXPECT_EQ(res.body.find("code_lookup"), std::string::npos) << res.body;
  EXPECT_EQ(res.body.find("code_sealed"), std::string::npos) << res.body;
  const Json body = res.json();
  ASSERT_EQ(body["events"].size(), 2u);
  for (const Json& e : body["events"].items()) EXPECT_EQ(e["token_description"].str(), "live one");
}

TEST_F(AuditViewTest, TheStreamHasNoCodeSecretsAndNamesDescriptions) {
  const std::string text =
      read_stream_until(server.port(), alice->cookie("tl_session"), "event: TokenDeleted", std::chrono::seconds(15));
  ASSERT_NE(text.find("event: TokenDeleted"), std::string::npos) << text;
  EXPECT_EQ(text.find("code_lookup"), std::string::npos);
  EXPECT_EQ(text.find("code_sealed"), std::string::npos);
  EXPECT_NE(text.find(R"("token_description":"first")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("token_description":"second")"), std::string::npos) << text;
}

TEST_F(AuditViewTest, TheExportKeepsTheStoredRecordsWhole) {
  const Response res = alice->get("/api/v1/audit/export?format=jsonl&type=TokenCreated");
  ASSERT_EQ(res.status, 200) << describe(res);
  EXPECT_NE(res.body.find(R"("code_lookup":")"), std::string::npos) << res.body;
  EXPECT_NE(res.body.find(R"("code_sealed":")"), std::string::npos) << res.body;
  EXPECT_EQ(res.body.find("token_description"), std::string::npos) << "the export is the stored bytes";
  const Response verify = alice->get("/api/v1/audit/verify");
  EXPECT_EQ(verify.status, 200) << describe(verify);
}

}  // namespace
}  // namespace e2e
